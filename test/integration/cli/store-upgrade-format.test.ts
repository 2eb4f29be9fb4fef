/**
 * `holdfast store upgrade-format` on a real Redis (ADR 265): a store recorded with format 3 keeps
 * 22-character session ids until the command runs; the command is refused (exit 78,
 * HF_FORMAT_UPGRADE_REFUSED, nothing changed) while a connection of an older build is open; then
 * a running engine writes format 4 (16-character ids, the compact record) within one meta poll,
 * and sessions made before keep working.
 */
import Redis from 'ioredis';
import { loadSettings } from '../../../src/config';
import { SessionPolicy } from '../../../src/session/policy';
import { SessionService } from '../../../src/session/session-service';
import { parseToken } from '../../../src/session/token';
import { layoutFormat } from '../../../src/store/redis/meta';
import { RESHARD_POLL_MS } from '../../../src/store/redis/split-state';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { startStandalone } from '../../harness';
import type { RedisProcess } from '../../harness/redis-process';
import { newPrefix, newUserId, redisSettings } from '../../support/store-fixtures';
import { cli, productionEnv } from '../preflight/helpers';

jest.setTimeout(60_000);

let redis: RedisProcess;
let engine: RedisEngine | undefined;
let older: Redis | undefined;
const prefix = newPrefix();

beforeAll(async () => {
  redis = await startStandalone();
});
afterAll(async () => {
  older?.disconnect();
  await engine?.stop();
  await redis?.destroy();
});

const env = () =>
  productionEnv([redis], {
    HOLDFAST_STORE__REDIS__KEY_PREFIX: prefix,
    HOLDFAST_STORE__REDIS__SHARDS: '16',
  });
const client = { ip: '203.0.113.7', userAgent: 'Firefox 130 on Linux' };
const idOf = (token: string) => parseToken(token, 16)!.id;

test('format 3 until the command, refused while an older build is connected, then format 4 live', async () => {
  const admin = new Redis({ host: redis.host, port: redis.port });
  const meta = `{${prefix}}:meta`;
  // A store an earlier version made: format 3 recorded at its first start.
  await admin.hset(meta, 'shards', '16', 'keyPrefix', prefix, 'format', layoutFormat(3));
  engine = new RedisEngine(redisSettings({ nodes: [redis], keyPrefix: prefix, shards: 16 }));
  await engine.start();
  const policy = new SessionPolicy(loadSettings({ env: { NODE_ENV: 'test' } }).session);
  const service = new SessionService(engine, engine.keys, policy);
  const firstUser = newUserId();
  const before = await service.create(firstUser, client, 'password');
  expect(engine.sessionFormat).toBe(3);
  expect(idOf(before.token)).toHaveLength(22);
  // Exactly what the earlier version writes, so its nodes read it during the rollout: a format 3
  // record and a text user index.
  const shard = engine.keys.shardOf(firstUser);
  expect((await admin.getBuffer(engine.keys.session(shard, idOf(before.token))))?.[0]).toBe(3);
  expect(await admin.hget(engine.keys.users(shard, firstUser), firstUser)).toBe(idOf(before.token));

  // A node of an earlier build (its connections carry no -f4 mark) is still connected.
  older = new Redis({ host: redis.host, port: redis.port, connectionName: 'holdfast-writes' });
  await older.ping();
  const refused = await cli(['store', 'upgrade-format'], await env());
  expect(refused.code).toBe(78);
  expect(refused.err.join('\n')).toContain('HF_FORMAT_UPGRADE_REFUSED');
  expect(refused.err.join('\n')).toMatch(
    /1 connection\(s\) .* 127\.0\.0\.1:\d+ \(holdfast-writes\)/,
  );
  expect(await admin.hget(meta, 'format')).toBe(layoutFormat(3));

  older.disconnect();
  older = undefined;
  const run = await cli(['store', 'upgrade-format', '--json'], await env());
  expect(run.code).toBe(0);
  expect(JSON.parse(run.out[0])).toEqual({
    from: layoutFormat(3),
    to: layoutFormat(4),
    changed: true,
  });
  expect(await admin.hget(meta, 'format')).toBe(layoutFormat(4));
  const again = await cli(['store', 'upgrade-format'], await env());
  expect(again.out.join('\n')).toContain('already records format "session-4 series-2"');

  // The running engine learns it from its meta poll, without a restart.
  const deadline = Date.now() + 3 * RESHARD_POLL_MS;
  while (engine.sessionFormat !== 4 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  expect(engine.sessionFormat).toBe(4);
  const userId = newUserId();
  const after = await service.create(userId, client, 'password');
  expect(idOf(after.token)).toHaveLength(16);
  const record = await admin.getBuffer(
    `{${prefix}:${engine.keys.shardOf(userId)}}:s:${idOf(after.token)}`,
  );
  expect(record?.[0]).toBe(4);
  // Both kinds of session are read, and renewed.
  expect((await service.authenticate(before.token)).result).toBe('ok');
  expect((await service.authenticate(after.token)).result).toBe('ok');
  admin.disconnect();
});
