/**
 * Metrics over the real Redis engine: live counts read from the shard indexes, store latency by
 * operation, and what a scrape says while Redis is down (real server stopped, never a mock).
 */
import { loadSettings } from '../../../src/config';
import { StoreUnavailableError } from '../../../src/errors';
import { createMetrics } from '../../../src/metrics';
import { SessionPolicy, SessionService } from '../../../src/session';
import { KeyLayout } from '../../../src/store/keys';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { getProvider, type RedisNode } from '../../harness';
import { find, parseExposition, valueOf } from '../../support/exposition';
import { redisSettings } from '../../support/store-fixtures';

jest.setTimeout(60_000);

const client = { ip: '203.0.113.7', userAgent: 'Firefox 130 on Linux' };

describe('metrics on a Redis store', () => {
  let server: RedisNode;
  beforeAll(async () => {
    server = await getProvider().standalone();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('counts live sessions and users from Redis, and times each operation', async () => {
    const clock = { now: Date.now() };
    const redis = redisSettings({
      nodes: [{ host: server.host, port: server.port }],
      commandTimeout: 500,
      connectTimeout: 500,
    });
    const metrics = createMetrics({
      defaultMetrics: false,
      liveCounts: { ttlMs: 1000, maxStaleMs: 5000, clock: () => clock.now },
    });
    const engine = metrics.instrumentEngine(new RedisEngine(redis, { name: 'holdfast-metrics' }));
    await engine.start();
    const sessions = new SessionService(
      engine,
      new KeyLayout(redis.keyPrefix, redis.shards),
      new SessionPolicy(loadSettings({ env: { NODE_ENV: 'test' } }).session),
    );
    metrics.observeSessions(sessions);
    try {
      const alice = await sessions.create('alice', client, 'password');
      await sessions.create('alice', client, 'password');
      await sessions.create('bob', client, 'password');
      let exp = parseExposition(await metrics.scrape());
      expect(valueOf(exp, 'holdfast_sessions_active')).toBe(3);
      expect(valueOf(exp, 'holdfast_users_active')).toBe(2);
      const ok = (operation: string) =>
        valueOf(exp, 'holdfast_store_operation_duration_seconds_count', {
          operation,
          outcome: 'ok',
        });
      expect(ok('start')).toBe(1);
      expect(ok('create')).toBe(3);
      expect(ok('count')).toBe(1);

      await sessions.revoke('alice', alice.session.id, 'logout');
      clock.now += 1000;
      exp = parseExposition(await metrics.scrape());
      expect(valueOf(exp, 'holdfast_sessions_active')).toBe(2);
      expect(valueOf(exp, 'holdfast_sessions_revoked_total', { reason: 'logout' })).toBe(1);

      // Redis stops: reads fail as unavailable (never "no session"), the count fails and the
      // live gauges keep the last figure only until it is too old.
      await server.stop();
      await expect(sessions.authenticate(alice.token)).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      clock.now += 1000;
      exp = parseExposition(await metrics.scrape());
      expect(
        valueOf(exp, 'holdfast_store_operation_duration_seconds_count', {
          operation: 'get',
          outcome: 'unavailable',
        }),
      ).toBe(1);
      expect(valueOf(exp, 'holdfast_auth_decisions_total', { result: 'unavailable' })).toBe(1);
      expect(valueOf(exp, 'holdfast_session_count_failures_total')).toBe(1);
      expect(valueOf(exp, 'holdfast_sessions_active')).toBe(2);
      clock.now += 5000;
      exp = parseExposition(await metrics.scrape());
      expect(find(exp, 'holdfast_sessions_active')).toEqual([]);

      await server.start();
      clock.now += 1000;
      // The client reconnects by itself; the next count after it does brings the figure back.
      let back = find(exp, 'holdfast_sessions_active');
      for (let i = 0; i < 50 && back.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        clock.now += 1000;
        back = find(parseExposition(await metrics.scrape()), 'holdfast_sessions_active');
      }
      expect(back.map((s) => s.value)).toEqual([2]);
    } finally {
      await engine.stop();
    }
  });
});
