/**
 * `holdfast store reshard --shards N` on a real 3-master cluster (ADR 260): a split stopped
 * halfway is resumed by the command, which prints one JSON progress line per old shard; refusals
 * exit 78 (HF_RESHARD_REFUSED) or 64 (usage); preflight accepts both the old and the grown count
 * afterwards; every session made before is still read.
 */
import { progressBar } from '../../../src/cli/commands/store';
import { shardUnder } from '../../../src/store/keys';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { reshard } from '../../../src/store/redis/resharder';
import { getProvider, type RedisClusterHandle } from '../../harness';
import { cli, lineOf, productionEnv } from '../preflight/helpers';
import { newPrefix, newUserId, redisSettings, session, stored } from '../../support/store-fixtures';

jest.setTimeout(90_000);

let cluster: RedisClusterHandle;
let engine: RedisEngine | undefined;
const prefix = newPrefix();

beforeAll(async () => {
  cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 0 });
}, 60_000);
afterAll(async () => {
  await engine?.stop();
  await cluster?.stop();
});

const env = (shards: number) =>
  productionEnv(cluster.seeds, {
    HOLDFAST_STORE__REDIS__MODE: 'cluster',
    HOLDFAST_STORE__REDIS__KEY_PREFIX: prefix,
    HOLDFAST_STORE__REDIS__SHARDS: String(shards),
  });

test('resumes a split stopped halfway, with JSON progress lines, then both counts start', async () => {
  const client = new RedisEngine(
    redisSettings({ mode: 'cluster', nodes: cluster.seeds, keyPrefix: prefix, shards: 8 }),
  );
  engine = client;
  await client.start();
  await client.meta();
  const now = Date.now();
  const made = Array.from({ length: 50 }, () => session(newUserId(), now));
  for (const s of made) await client.create(shardUnder(s.userId, 8), stored(s), 5);
  // A first run that stopped after 3 of the 8 old shards.
  expect(await reshard(client, 32, { announceWaitMs: 0, maxShards: 3 })).toMatchObject({
    cursor: 3,
    done: false,
  });

  expect((await cli(['store', 'reshard', '--shards', '48'], await env(8))).code).toBe(78);
  const refused = await cli(['store', 'reshard', '--shards', '48', '--json'], await env(8));
  expect(refused.code).toBe(78);
  expect(refused.err.join('\n')).toContain('HF_RESHARD_REFUSED');
  expect(refused.err.join('\n')).toContain('a split to 32 shards is running');
  expect((await cli(['store', 'reshard', '--shards', 'many'], await env(8))).code).toBe(64);

  const run = await cli(['store', 'reshard', '--shards', '32', '--json'], await env(8));
  expect(run.code).toBe(0);
  expect(JSON.parse(run.out[0])).toEqual({ from: 8, to: 32, done: true });
  const lines = run.err.map(
    (l) => JSON.parse(l) as { phase: string; shardsDone: number; from: number; to: number },
  );
  expect(lines.map((l) => [l.phase, l.shardsDone])).toEqual([
    ['announce', 3],
    ['shard', 4],
    ['shard', 5],
    ['shard', 6],
    ['shard', 7],
    ['shard', 8],
    ['done', 8],
  ]);
  expect(lines.every((l) => l.from === 8 && l.to === 32)).toBe(true);

  await client.refreshMeta();
  expect(await client.count(Date.now())).toMatchObject({ sessions: 50, users: 50 });
  for (const s of made) {
    expect((await client.get(shardUnder(s.userId, 8), s.id, Date.now()))?.id).toBe(s.id);
    expect(
      await client.connection.writes.exists(client.keys.session(shardUnder(s.userId, 32), s.id)),
    ).toBe(1);
  }
  // Nodes set to either count start; any other count is refused. Both weigh the balance of the
  // 32 shards the data lives under.
  for (const shards of [8, 32]) {
    const pre = await cli(['preflight'], await env(shards));
    expect(lineOf(pre.out, 'store.layout')).toMatch(/^PASS store\.layout/);
    expect(lineOf(pre.out, 'store.balance')).toContain('the mean of 32 shards over 3 masters');
  }
  const other = await cli(['preflight'], await env(16));
  expect(lineOf(other.out, 'store.layout')).toMatch(/^FAIL store\.layout/);
  // Done already: nothing to do.
  const again = await cli(['store', 'reshard', '--shards', '32'], await env(32));
  expect(again.out).toEqual(['the store already has 32 shards: nothing to do']);
});

test('the progress bar', () => {
  const p = { phase: 'shard' as const, from: 256, to: 1024, moved: 1200, elapsedMs: 4100 };
  expect(progressBar({ ...p, shardsDone: 64 }, 20)).toBe(
    '[#####...............] 64/256 old shards, 1200 users moved, 4.1 s',
  );
  expect(progressBar({ ...p, shardsDone: 256 }, 10)).toBe(
    '[##########] 256/256 old shards, 1200 users moved, 4.1 s',
  );
});
