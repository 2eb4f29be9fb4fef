/**
 * ADR 210: the cluster comes back on new addresses (pods rescheduled) and the client finds it by
 * itself. Stock ioredis reconnects to its startup nodes forever (ioredis #1732); the engine's
 * clients re-resolve store.redis.dns (here through a DNS server the test runs on loopback) or
 * rebuild their seeds from the last slot map. Each node is its own loopback address.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log/logger';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { storeSeeds } from '../../../src/store/redis/rediscovery';
import type { RedisSettings } from '../../../src/config/settings';
import { sleep } from '../../harness';
import { TestDnsServer } from '../../support/dns-server';
import { MovingCluster } from '../../support/moving-cluster';
import { redisSettings } from '../../support/store-fixtures';

const INTERVAL_MS = 500;
const CONNECT_TIMEOUT_MS = 1000;
/** The documented bound: about rediscoverInterval + connectTimeout; the rest is ioredis's retry delay (≤ 2 s). */
const BOUND_MS = INTERVAL_MS + CONNECT_TIMEOUT_MS + 3000;

/** Milliseconds until every master answers and `key` reads `value` on both clients; throws past `limitMs`. */
async function timeToRecover(
  engine: RedisEngine,
  key: string,
  value: string,
  limitMs: number,
): Promise<number> {
  const started = Date.now();
  let last = 'no attempt';
  while (Date.now() - started < limitMs) {
    try {
      await engine.ping();
      const { reads, writes } = engine.connection;
      const [read, written] = await Promise.all([reads.get(key), writes.get(key)]);
      if (read === value && written === value) return Date.now() - started;
      last = `read ${read}, ${written}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`not recovered within ${limitMs} ms: ${last}`);
}

function settings(overrides: Partial<RedisSettings>): RedisSettings {
  return redisSettings({
    mode: 'cluster',
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: 1000,
    rediscoverInterval: INTERVAL_MS,
    ...overrides,
  });
}

describe('a cluster that comes back on new addresses', () => {
  let cluster: MovingCluster | undefined;
  let engine: RedisEngine | undefined;
  let dns: TestDnsServer | undefined;

  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
    await cluster?.stop();
    cluster = undefined;
    await dns?.close();
    dns = undefined;
  });

  it('store.redis.dns: every node moves at once; the name is re-resolved and the client reconnects', async () => {
    const name = 'redis-headless.holdfast.test';
    const before = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
    const after = ['127.0.0.21', '127.0.0.22', '127.0.0.23'];
    dns = await TestDnsServer.start();
    dns.set(name, before);
    cluster = await MovingCluster.start(before);
    const e = new RedisEngine(
      settings({ nodes: [], dns: { name, port: cluster.port }, dnsServers: [dns.address] }),
    );
    engine = e;
    await e.start();
    expect(e.connection.rediscovery?.seeds.map((s) => s.host).sort()).toEqual(before);
    await e.connection.writes.set('{moved}:dns', 'kept');

    const changes = storeSeeds.changes;
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    storeSeeds.useLogger(createLogger('info', sink));
    await cluster.moveAll(after);
    dns.set(name, after);
    const asked = dns.queries.get(name) ?? 0;
    const ms = await timeToRecover(e, '{moved}:dns', 'kept', BOUND_MS);
    console.log(`dns: recovered ${ms} ms after the cluster answered on new addresses`);

    expect(e.connection.rediscovery?.seeds.map((s) => s.host).sort()).toEqual(after);
    expect(storeSeeds.changes).toBeGreaterThan(changes);
    expect(dns.queries.get(name) ?? 0).toBeGreaterThan(asked);
    storeSeeds.useLogger(undefined);
    const port = cluster.port;
    const changed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(changed).toContainEqual(
      expect.objectContaining({
        level: 30,
        source: 'dns',
        added: after.map((h) => `${h}:${port}`),
        removed: before.map((h) => `${h}:${port}`),
        msg: expect.stringMatching(/^store seed nodes changed \(dns\): now 127\.0\.0\.2/),
      }),
    );
    // Both clients follow: the writes client (WAIT, scripts) as well as the reads client.
    await e.connection.writes.set('{moved}:dns', 'written after');
    expect(await e.connection.reads.get('{moved}:dns')).toBe('written after');
  }, 90_000);

  it('seed list: nodes move one by one, then the cluster restarts; the last slot map is the seed', async () => {
    const before = ['127.0.0.31', '127.0.0.32', '127.0.0.33'];
    const after = ['127.0.0.41', '127.0.0.42', '127.0.0.43'];
    cluster = await MovingCluster.start(before);
    const c = cluster;
    const e = new RedisEngine(settings({ nodes: c.seeds }));
    engine = e;
    await e.start();
    await e.connection.writes.set('{moved}:seeds', 'kept');

    // A rolling reschedule: the client follows each move through the slot map of the others.
    for (const [i, host] of after.entries()) {
      await c.move(i, host);
      await c.waitHealthy();
      await timeToRecover(e, '{moved}:seeds', 'kept', BOUND_MS);
    }
    // Every configured seed is gone now. A whole-cluster restart drops every connection: the client
    // reconnects to its startup nodes, which must be where the cluster was last seen.
    const changes = storeSeeds.changes;
    await c.restartAll();
    const ms = await timeToRecover(e, '{moved}:seeds', 'kept', BOUND_MS + 5000);
    console.log(`seed list: recovered ${ms} ms after the restarted cluster answered`);
    const seeds = (e.connection.rediscovery?.seeds ?? []).map((s) => s.host);
    expect(seeds).toEqual(expect.arrayContaining([...before, ...after]));
    expect(storeSeeds.changes).toBeGreaterThanOrEqual(changes);
  }, 120_000);
});
