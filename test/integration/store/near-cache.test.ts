/**
 * The near cache on real Redis (ADR 225): two "nodes" (two engines, each with its own connections
 * and near cache) share a 3+3 Redis Cluster, invalidations travel by sharded pub/sub. Revocation
 * visibility under load, messages lost, a subscription killed, a master killed; plain pub/sub on a
 * standalone server.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import type { RedisSettings } from '../../../src/config/settings';
import { NearCacheEngine, RedisBus } from '../../../src/store/near-cache';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { reshard } from '../../../src/store/redis/resharder';
import { shardUnder } from '../../../src/store/keys';
import { hashSlot } from '../../../src/store/redis/hash-slot';
import {
  getProvider,
  sleep,
  waitUntil,
  notYet,
  type RedisClusterHandle,
  type RedisNode,
  type RedisSentinelHandle,
} from '../../harness';
import { newUserId, redisSettings, session, stored } from '../../support/store-fixtures';
import { percentile } from '../../support/statistics';

const provider = getProvider();

interface Node {
  readonly engine: RedisEngine;
  readonly bus: RedisBus;
  readonly cache: NearCacheEngine;
}

async function node(
  settings: RedisSettings,
  name: string,
  staleness: number,
  maxEntries = 100_000,
): Promise<Node> {
  const engine = new RedisEngine(settings, { name });
  // The engine's own layout, as services.ts gives it: it learns a growth of the count (ADR 260).
  const bus = new RedisBus(() => engine.connection, engine.keys, { checkInterval: 200 });
  const cache = new NearCacheEngine(engine, bus, { staleness, maxEntries });
  await cache.start();
  await subscribed(cache);
  return { engine, bus, cache };
}

function subscribed(cache: NearCacheEngine, timeoutMs = 15_000): Promise<true> {
  return waitUntil(
    'near cache subscribed',
    () => Promise.resolve(cache.cacheStats.subscribed ? true : notYet('not subscribed')),
    { timeoutMs, intervalMs: 10 },
  );
}

async function newSession(n: Node) {
  const userId = newUserId();
  const shard = n.engine.keys.shardOf(userId);
  const s = stored(session(userId, Date.now()));
  await n.cache.create(shard, s, 50);
  return { id: s.id, shard, userId };
}

/** The near-cache subscriber connections of `name` on a server: CLIENT LIST ids. */
async function subscriberIds(server: RedisNode, name: string): Promise<string[]> {
  const list = String(await server.command(['CLIENT', 'LIST']));
  return list
    .split('\n')
    .filter((l) => l.includes(` name=${name}-reads-f4-nearcache `))
    .map((l) => /id=(\d+)/.exec(l)?.[1] ?? '')
    .filter(Boolean);
}

describe('near cache on a Redis Cluster (3 masters + 3 replicas)', () => {
  let cluster: RedisClusterHandle;
  let settings: RedisSettings;
  const nodes: Node[] = [];

  beforeAll(async () => {
    cluster = await provider.cluster({ masters: 3, replicasPerMaster: 1 });
    settings = redisSettings({ mode: 'cluster', nodes: cluster.seeds, shards: 16 });
  }, 60_000);
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.cache.stop()));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function pair(staleness: number) {
    const a = await node(settings, `a${nodes.length}`, staleness);
    nodes.push(a);
    const b = await node(settings, `b${nodes.length}`, staleness);
    nodes.push(b);
    return { a, b };
  }

  it('subscribes one connection per master, each to the channels of the slots it serves', async () => {
    const { b } = await pair(1000);
    expect(b.bus.subscribers).toHaveLength(3);
    const masters = await cluster.masters();
    for (let shard = 0; shard < settings.shards; shard++) {
      const slot = hashSlot(b.bus.channel(shard));
      expect(slot).toBe(hashSlot(b.engine.keys.session(shard, 'x')));
      expect(masters.some((m) => m.slots.some(([lo, hi]) => slot >= lo && slot <= hi))).toBe(true);
    }
  });

  it('after the shard count grew, a node still set to the old count hears the new shards too', async () => {
    // A store of its own: the growth is recorded in its meta.
    const own = redisSettings({ mode: 'cluster', nodes: cluster.seeds, shards: 16 });
    const a = await node(own, 'grow-a', 60_000);
    const b = await node(own, 'grow-b', 60_000);
    nodes.push(a, b);
    // A user whose shard only the grown count has.
    let userId = newUserId();
    while (shardUnder(userId, own.shards * 2) < own.shards) userId = newUserId();
    const shard = shardUnder(userId, own.shards * 2);
    const channel = b.bus.channel(shard);
    const owner = (await cluster.masterForKey(channel))!;
    const listeners = async () =>
      Number(((await owner.command(['PUBSUB', 'SHARDNUMSUB', channel])) as unknown[])[1]);
    expect(await listeners()).toBe(0);
    await a.engine.meta(); // the layout a first start records
    await reshard(a.engine, own.shards * 2, { announceWaitMs: 0 });
    // Both nodes stay set to 16; each learns the growth from its meta poll.
    await waitUntil(
      'subscribed to the grown count',
      async () => ((await listeners()) === 2 ? true : notYet(`${await listeners()} listeners`)),
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    await subscribed(b.cache);
    // A session of that shard, cached by B, revoked on A: B stops serving it at once (the
    // staleness alone would keep it a minute).
    const s = stored(session(userId, Date.now()));
    await a.cache.create(shard, s, 50);
    expect((await b.cache.get(shard, s.id, Date.now()))?.id).toBe(s.id);
    expect(b.cache.holds(s.id)).toBe(true);
    expect(await a.cache.revoke(shard, s.id)).toBe(true);
    await waitUntil(
      'invalidation heard',
      () => Promise.resolve(b.cache.holds(s.id) ? notYet('still cached') : true),
      { timeoutMs: 5_000, intervalMs: 10 },
    );
    expect(await b.cache.get(shard, s.id, Date.now())).toBeNull();
  }, 60_000);

  it('a revocation on one node is seen on the other under load: p95 under 50 ms, p99 reported', async () => {
    // Staleness far above the target: only the invalidation can make a revocation visible in time.
    const { a, b } = await pair(30_000);
    const live: Array<Awaited<ReturnType<typeof newSession>>> = [];
    for (let i = 0; i < 400; i++) live.push(await newSession(a));
    for (const x of live) await b.cache.get(x.shard, x.id, Date.now());

    let running = true;
    const load = async (n: Node) => {
      let reads = 0;
      while (running) {
        const x = live[Math.floor(Math.random() * live.length)];
        await n.cache.get(x.shard, x.id, Date.now());
        // Through to Redis as well, so the store and the sockets are busy too.
        if (reads++ % 4 === 0) await n.engine.get(x.shard, x.id, Date.now());
        await turn();
      }
      return reads;
    };
    const loops = [...Array(12)].flatMap(() => [load(a), load(b)]);

    const latencies: number[] = [];
    const revoked: number[] = []; // the revoking call alone (script + publish)
    const lags: number[] = []; // from the revoking call's answer to B no longer serving it
    const revocations = 300;
    for (let i = 0; i < revocations; i++) {
      const x = live.splice(Math.floor(Math.random() * live.length), 1)[0];
      // B holds it, so serves it from its cache. (Not the hits counter: hits are answered in the
      // event loop's check phase, together with the background reads' hits, ADR 250.)
      expect(b.cache.holds(x.id)).toBe(true);
      expect((await b.cache.get(x.shard, x.id, Date.now()))?.id).toBe(x.id);
      const started = performance.now();
      expect(await a.cache.revoke(x.shard, x.id, x.userId)).toBe(true);
      const done = performance.now();
      revoked.push(done - started);
      // Capped: without invalidations it would take the whole staleness (30 s) per revocation.
      while ((await b.cache.get(x.shard, x.id, Date.now())) !== null) {
        if (performance.now() - started > 1000) break;
        await turn();
      }
      latencies.push(performance.now() - started);
      lags.push(performance.now() - done);
      if (live.length < 50) live.push(...(await Promise.all([1, 2, 3].map(() => newSession(a)))));
    }
    running = false;
    const reads = (await Promise.all(loops)).reduce((s, n) => s + n, 0);
    const ms = (xs: number[]) =>
      `p50 ${percentile(xs, 50).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms, max ${Math.max(...xs).toFixed(2)} ms`;
    process.stdout.write(
      `near cache: ${revocations} revocations under ${reads} background reads (load average ${loadavg()[0].toFixed(1)}): ` +
        `visible on the other node ${ms(latencies)} from the revoking call; the call alone ${ms(revoked)}; ` +
        `after its answer ${ms(lags)}\n`,
    );
    // The near cache's own share: the revoking call costs the same with the cache off (store
    // latency, which a loaded 2-core machine stretches); once it has answered, the message is out.
    // p95 is asserted, p99 reported: with other jobs on the 2 cores (load average 20-30 while
    // this was written) a descheduled process alone makes a 50 ms tail.
    expect(percentile(lags, 95)).toBeLessThan(50);
    expect(percentile(latencies, 50)).toBeLessThan(50);
    expect(b.cache.cacheStats.invalidations).toBeGreaterThanOrEqual(revocations);
  }, 120_000);

  it('with every message lost, a revoked session is served no longer than the staleness', async () => {
    const staleness = 300;
    const { a, b } = await pair(staleness);
    // Messages lost without the connection noticing: the server forgets the subscriptions.
    await Promise.all(b.bus.subscribers.map((s) => s.sunsubscribe()));
    let servedAfterRevoke = 0;
    for (let i = 0; i < 5; i++) {
      const x = await newSession(a);
      expect((await b.cache.get(x.shard, x.id, Date.now()))?.id).toBe(x.id);
      const cachedBy = performance.now(); // the cached read ended: it started no later
      await a.cache.revoke(x.shard, x.id, x.userId);
      for (;;) {
        const asked = performance.now();
        const got = await b.cache.get(x.shard, x.id, Date.now());
        if (got === null) break;
        servedAfterRevoke++;
        expect(asked).toBeLessThan(cachedBy + staleness);
        expect(asked).toBeLessThan(cachedBy + 3 * staleness); // never forever
        await sleep(5);
      }
    }
    // The messages were really lost: B kept serving until its entries aged out.
    expect(servedAfterRevoke).toBeGreaterThan(5);
    expect(b.cache.cacheStats.subscribed).toBe(true);
  }, 30_000);

  it('a killed subscriber connection empties the cache; it resubscribes and caches again', async () => {
    const { a, b } = await pair(30_000);
    const x = await newSession(a);
    await b.cache.get(x.shard, x.id, Date.now());
    expect(b.cache.size).toBe(1);
    const server = (await cluster.masterForKey(b.bus.channel(x.shard)))!;
    const ids = await subscriberIds(server, 'b1');
    expect(ids).toHaveLength(1);
    await server.command(['CLIENT', 'KILL', 'ID', ids[0]]);
    await waitUntil(
      'the subscription lost',
      () => Promise.resolve(b.cache.cacheStats.drops === 1 ? true : notYet('no drop')),
      { timeoutMs: 5000, intervalMs: 5 },
    );
    await subscribed(b.cache);
    // The cached entry went with the subscription: the next read goes to the store.
    const misses = b.cache.cacheStats.misses;
    expect((await b.cache.get(x.shard, x.id, Date.now()))?.id).toBe(x.id);
    expect(b.cache.cacheStats.misses).toBe(misses + 1);
    // Subscribed again: invalidations arrive.
    await a.cache.revoke(x.shard, x.id, x.userId);
    await waitUntil(
      'the revocation seen',
      async () =>
        (await b.cache.get(x.shard, x.id, Date.now())) === null ? true : notYet('served'),
      { timeoutMs: 1000, intervalMs: 1 },
    );
  }, 30_000);

  // Last: it kills a master of this cluster.
  it('a dead master: reads go through until the subscription is back after the failover', async () => {
    const { a, b } = await pair(30_000);
    const x = await newSession(a);
    await b.cache.get(x.shard, x.id, Date.now());
    // A session on another master, made before the kill: a create on the dead master's slots
    // would fail until the failover.
    let other = await newSession(a);
    while (
      (await cluster.masterForKey(b.engine.keys.session(other.shard, other.id))) ===
      (await cluster.masterForKey(b.bus.channel(x.shard)))
    ) {
      other = await newSession(a);
    }
    await cluster.killMasterForKey(b.bus.channel(x.shard));
    await waitUntil(
      'the subscription lost',
      () => Promise.resolve(b.cache.cacheStats.subscribed ? notYet('subscribed') : true),
      { timeoutMs: 5000, intervalMs: 5 },
    );
    expect(b.cache.size).toBe(0);

    // Down: a session on a live master is read from the store each time, so a revocation shows at once.
    const hits = b.cache.cacheStats.hits;
    let downReads = 0;
    for (let i = 0; i < 5 && !b.cache.cacheStats.subscribed; i++, downReads++) {
      expect((await b.cache.get(other.shard, other.id, Date.now()))?.id).toBe(other.id);
    }
    if (!b.cache.cacheStats.subscribed) {
      await a.engine.revoke(other.shard, other.id, other.userId); // no message at all
      expect(await b.cache.get(other.shard, other.id, Date.now())).toBeNull();
    }
    expect(downReads).toBeGreaterThan(0);
    expect(b.cache.cacheStats.hits).toBe(hits);

    await cluster.waitForHealthy({ timeoutMs: 20_000 });
    await subscribed(b.cache, 20_000);
    const y = await newSession(a);
    await b.cache.get(y.shard, y.id, Date.now());
    expect((await b.cache.get(y.shard, y.id, Date.now()))?.id).toBe(y.id);
    expect(b.cache.cacheStats.hits).toBe(hits + 1);
    await a.cache.revoke(y.shard, y.id, y.userId);
    await waitUntil(
      'the revocation seen after the failover',
      async () =>
        (await b.cache.get(y.shard, y.id, Date.now())) === null ? true : notYet('served'),
      { timeoutMs: 1000, intervalMs: 1 },
    );
  }, 60_000);
});

describe('near cache on a standalone Redis (plain pub/sub)', () => {
  let server: RedisNode;
  beforeAll(async () => {
    server = await provider.standalone();
  }, 30_000);
  afterAll(async () => {
    await server?.destroy();
  });

  it('a revocation on one node is seen on the other', async () => {
    const settings = redisSettings({ nodes: [{ host: server.host, port: server.port }] });
    const a = await node(settings, 'sa', 30_000);
    const b = await node(settings, 'sb', 30_000);
    try {
      expect(b.bus.subscribers).toHaveLength(1);
      const x = await newSession(a);
      await b.cache.get(x.shard, x.id, Date.now());
      expect((await b.cache.get(x.shard, x.id, Date.now()))?.id).toBe(x.id);
      await a.cache.revokeUser(x.shard, x.userId);
      await waitUntil(
        'the revocation seen',
        async () =>
          (await b.cache.get(x.shard, x.id, Date.now())) === null ? true : notYet('served'),
        { timeoutMs: 1000, intervalMs: 1 },
      );
      const ids = await subscriberIds(server, 'sb');
      await server.command(['CLIENT', 'KILL', 'ID', ids[0]]);
      await waitUntil(
        'the subscription lost',
        () => Promise.resolve(b.cache.cacheStats.drops === 1 ? true : notYet('no drop')),
        { timeoutMs: 5000, intervalMs: 5 },
      );
      await subscribed(b.cache);
    } finally {
      await a.cache.stop();
      await b.cache.stop();
    }
  }, 30_000);
});

describe('near cache on a Sentinel set (plain pub/sub on the master)', () => {
  let set: RedisSentinelHandle;
  beforeAll(async () => {
    set = await provider.sentinel();
  }, 60_000);
  afterAll(async () => {
    await set?.stop();
  });

  it('a revocation on one node is seen on the other', async () => {
    const settings = redisSettings({
      mode: 'sentinel',
      nodes: set.sentinels,
      sentinelName: set.name,
    });
    const a = await node(settings, 'ta', 30_000);
    const b = await node(settings, 'tb', 30_000);
    try {
      const x = await newSession(a);
      await b.cache.get(x.shard, x.id, Date.now());
      expect((await b.cache.get(x.shard, x.id, Date.now()))?.id).toBe(x.id);
      expect(b.cache.cacheStats.hits).toBe(1);
      await a.cache.revoke(x.shard, x.id, x.userId);
      await waitUntil(
        'the revocation seen',
        async () =>
          (await b.cache.get(x.shard, x.id, Date.now())) === null ? true : notYet('served'),
        { timeoutMs: 1000, intervalMs: 1 },
      );
    } finally {
      await a.cache.stop();
      await b.cache.stop();
    }
  }, 30_000);
});
