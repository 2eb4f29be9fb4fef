/**
 * The near cache over the in-process store (its bus is an emitter): what it serves, for how long,
 * what every kind of revocation does to every cache sharing the store, the LRU bound, renewal
 * writes, and its metrics. The Redis buses are tested in test/integration/store/near-cache.test.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createMetrics } from '../../../src/metrics';
import { SessionPolicy, SessionService } from '../../../src/session';
import { KeyLayout } from '../../../src/store/keys';
import { MemoryEngine } from '../../../src/store/memory/memory-engine';
import {
  decodeInvalidation,
  encodeInvalidation,
  NearCacheEngine,
  withNearCache,
} from '../../../src/store/near-cache';
import { parseExposition, valueOf } from '../../support/exposition';
import { newUserId, session } from '../../support/store-fixtures';
import { testSettings } from '../../support/app';

const SHARDS = 8;
const layout = new KeyLayout('hf', SHARDS);

/** Two workers' near caches over one store, started (subscribed). */
async function twoWorkers(staleness = 10_000, maxEntries = 1000) {
  const store = new MemoryEngine(SHARDS);
  const a = withNearCache(store, store, layout, { staleness, maxEntries });
  const b = withNearCache(store, store, layout, { staleness, maxEntries });
  await a.start();
  await b.start();
  return { store, a, b };
}

async function stored(engine: NearCacheEngine, userId = newUserId()) {
  const s = session(userId, Date.now());
  const shard = layout.shardOf(userId);
  await engine.create(shard, s, 50);
  return { s, shard, userId };
}

describe('NearCacheEngine (memory store)', () => {
  it('serves a read from the cache, and counts hits and misses', async () => {
    const { store, a } = await twoWorkers();
    const { s, shard } = await stored(a);
    expect((await a.get(shard, s.id, Date.now()))?.id).toBe(s.id);
    // The store no longer has it, yet the cache answers: the second read never reached the store.
    await store.revoke(shard, s.id);
    expect((await a.get(shard, s.id, Date.now()))?.id).toBe(s.id);
    expect(a.cacheStats).toMatchObject({ hits: 1, misses: 1, subscribed: true });
    expect(a.size).toBe(1);
  });

  it('does not cache an absent session', async () => {
    const { a } = await twoWorkers();
    const { s, shard } = await stored(a);
    expect(await a.get(shard, 'no-such-session', Date.now())).toBeNull();
    expect(a.size).toBe(0);
    await a.get(shard, s.id, Date.now());
    expect(a.size).toBe(1);
  });

  it('never serves a session past its own deadline', async () => {
    const { a } = await twoWorkers();
    const { s, shard } = await stored(a);
    await a.get(shard, s.id, Date.now());
    expect(await a.get(shard, s.id, s.expiresAt)).toBeNull();
    expect(a.cacheStats.hits).toBe(0);
  });

  it('never serves an entry older than the staleness, even with no message at all', async () => {
    const { store, a } = await twoWorkers(50);
    const { s, shard } = await stored(a);
    await a.get(shard, s.id, Date.now());
    await store.revoke(shard, s.id); // behind the cache's back: no invalidation
    expect((await a.get(shard, s.id, Date.now()))?.id).toBe(s.id);
    await sleep(60);
    expect(await a.get(shard, s.id, Date.now())).toBeNull();
  });

  it.each([
    [
      'revoke (logout)',
      (e: NearCacheEngine, x: { shard: number; id: string; userId: string }) =>
        e.revoke(x.shard, x.id, x.userId),
    ],
    [
      'revokeUser (password change, disable, theft, sign out everywhere)',
      (e: NearCacheEngine, x: { shard: number; id: string; userId: string }) =>
        e.revokeUser(x.shard, x.userId, undefined, 7),
    ],
    [
      'revokeShard (operator)',
      (e: NearCacheEngine, x: { shard: number; id: string; userId: string }) =>
        e.revokeShard(x.shard),
    ],
  ])('%s on one worker is seen at once by the other', async (_name, end) => {
    const { a, b } = await twoWorkers();
    const { s, shard, userId } = await stored(a);
    expect((await b.get(shard, s.id, Date.now()))?.id).toBe(s.id);
    await end(a, { shard, id: s.id, userId });
    expect(await b.get(shard, s.id, Date.now())).toBeNull();
    expect(b.cacheStats.invalidations).toBe(1);
    expect(b.cacheStats.hits).toBe(0);
  });

  it('rotation and eviction past maxPerUser invalidate the old session everywhere', async () => {
    const { a, b } = await twoWorkers();
    const { s, shard, userId } = await stored(a);
    await b.get(shard, s.id, Date.now());
    const next = session(userId, Date.now());
    expect(await a.rotate(shard, s.id, next, Date.now())).toBe(true);
    expect(await b.get(shard, s.id, Date.now())).toBeNull();

    await b.get(shard, next.id, Date.now());
    // maxPerUser 1: creating another evicts `next`.
    await a.create(shard, session(userId, Date.now()), 1);
    expect(await b.get(shard, next.id, Date.now())).toBeNull();
  });

  it('a read that an invalidation overtook is not cached', async () => {
    // A real store whose read answers (the record as it was) but is held before it returns,
    // as a Redis reply in flight is while the invalidation arrives on the other connection.
    class HeldReads extends MemoryEngine {
      hold: Promise<void> | null = null;
      override async get(shard: number, id: string, now: number) {
        const found = await super.get(shard, id, now);
        if (this.hold) await this.hold;
        return found;
      }
    }
    const store = new HeldReads(SHARDS);
    const a = withNearCache(store, store, layout, { staleness: 10_000, maxEntries: 100 });
    const b = withNearCache(store, store, layout, { staleness: 10_000, maxEntries: 100 });
    await a.start();
    await b.start();
    const { s, shard, userId } = await stored(a);
    let release = (): void => undefined;
    store.hold = new Promise((resolve) => (release = resolve));
    const reading = b.get(shard, s.id, Date.now());
    await sleep(5); // the read has its answer, not yet returned
    store.hold = null;
    await a.revoke(shard, s.id, userId);
    release();
    expect((await reading)?.id).toBe(s.id); // it was read before the revocation
    expect(b.size).toBe(0);
    expect(await b.get(shard, s.id, Date.now())).toBeNull();
  });

  it('answers the hits of one turn together in its check phase, not in the microtasks of the caller', async () => {
    const { a } = await twoWorkers();
    const { s, shard } = await stored(a);
    await a.get(shard, s.id, Date.now());
    let answered = 0;
    const reads = [1, 2, 3].map(() => a.get(shard, s.id, Date.now()).then(() => answered++));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(answered).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(3);
    await Promise.all(reads);
    expect(a.cacheStats).toMatchObject({ hits: 3, misses: 1 });
  });

  it('a hit whose entry is invalidated before its turn is not served: it reads the store', async () => {
    const { a, b } = await twoWorkers();
    const { s, shard, userId } = await stored(a);
    await a.get(shard, s.id, Date.now());
    const hit = a.get(shard, s.id, Date.now()); // found in the cache, answered in the check phase
    // Another worker's logout lands first (the memory store and its bus answer in microtasks).
    expect(await b.revoke(shard, s.id, userId)).toBe(true);
    expect(await hit).toBeNull();
    expect(a.cacheStats).toMatchObject({ hits: 0, misses: 2, invalidations: 1 });

    // The same when the subscription is lost in between: everything is dropped, the store asked.
    const other = await stored(a);
    await a.get(other.shard, other.s.id, Date.now());
    const pending = a.get(other.shard, other.s.id, Date.now());
    await a.stop();
    expect((await pending)?.id).toBe(other.s.id);
    expect(a.cacheStats).toMatchObject({ hits: 0, misses: 4, subscribed: false });
  });

  it('a hit whose turn ends past the staleness is not served: it reads the store', async () => {
    const { store, a } = await twoWorkers(20);
    const { s, shard } = await stored(a);
    await a.get(shard, s.id, Date.now());
    await store.revoke(shard, s.id); // behind the cache's back: no message
    const hit = a.get(shard, s.id, Date.now()); // still fresh when found
    const busy = performance.now() + 30; // this turn runs past the 20 ms bound
    while (performance.now() < busy);
    expect(await hit).toBeNull();
    expect(a.cacheStats.hits).toBe(0);
  });

  it('keeps at most maxEntries sessions, dropping the least recently used', async () => {
    const { a } = await twoWorkers(10_000, 5);
    const all = [];
    for (let i = 0; i < 20; i++) all.push(await stored(a));
    for (const { s, shard } of all) await a.get(shard, s.id, Date.now());
    expect(a.size).toBe(5);
    const before = a.cacheStats.hits;
    for (const { s, shard } of all.slice(15)) await a.get(shard, s.id, Date.now());
    expect(a.cacheStats.hits - before).toBe(5);
    const misses = a.cacheStats.misses;
    await a.get(all[0].shard, all[0].s.id, Date.now());
    expect(a.cacheStats.misses - misses).toBe(1);
    expect(a.size).toBe(5);
  });

  it('caches nothing and serves nothing while not subscribed, and drops everything on loss', async () => {
    const store = new MemoryEngine(SHARDS);
    const a = withNearCache(store, store, layout, { staleness: 10_000, maxEntries: 100 });
    const { s, shard } = await stored(a);
    await a.get(shard, s.id, Date.now()); // not started: no subscription yet
    expect(a.size).toBe(0);
    await a.start();
    await a.get(shard, s.id, Date.now());
    expect(a.size).toBe(1);
    await a.stop(); // the bus reports the subscription gone
    expect(a.cacheStats).toMatchObject({ subscribed: false, drops: 1 });
    expect(a.size).toBe(0);
    await a.get(shard, s.id, Date.now());
    await a.get(shard, s.id, Date.now());
    expect(a.cacheStats.hits).toBe(0);
  });

  it('renewal writes at most once per interval over two workers', async () => {
    const settings = testSettings();
    const store = new MemoryEngine(SHARDS, () => clock.now);
    const clock = { now: Date.now() };
    const worker = () => {
      const engine = withNearCache(store, store, layout, { staleness: 60_000, maxEntries: 100 });
      const service = new SessionService(
        engine,
        layout,
        new SessionPolicy(settings.session),
        () => clock.now,
      );
      return { engine, service };
    };
    const [a, b] = [worker(), worker()];
    await a.engine.start();
    await b.engine.start();
    const { token } = await a.service.create(
      newUserId(),
      { ip: '203.0.113.9', userAgent: 'x' },
      'password',
    );
    expect((await a.service.authenticate(token)).result).toBe('ok');
    expect((await b.service.authenticate(token)).result).toBe('ok');
    clock.now += settings.session.renewAfter + 1000; // renewal due; both caches hold the old record
    for (let i = 0; i < 20; i++) {
      expect((await a.service.authenticate(token)).result).toBe('ok');
      expect((await b.service.authenticate(token)).result).toBe('ok');
    }
    expect(a.service.stats.renewals + b.service.stats.renewals).toBe(1);
  });

  it('invalidation messages round-trip', () => {
    expect(decodeInvalidation(encodeInvalidation({ shard: 3, ids: ['a', 'b'] }))).toEqual({
      shard: 3,
      ids: ['a', 'b'],
    });
    expect(decodeInvalidation(encodeInvalidation({ shard: 0, ids: 'all' }))).toEqual({
      shard: 0,
      ids: 'all',
    });
    expect(decodeInvalidation('x a')).toBeNull();
    expect(decodeInvalidation('4')).toBeNull();
  });

  it('exports hits, misses, invalidations, drops, subscription and size', async () => {
    const { a, b } = await twoWorkers();
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.observeNearCache(b);
    const { s, shard, userId } = await stored(a);
    await b.get(shard, s.id, Date.now()); // miss
    await b.get(shard, s.id, Date.now()); // hit
    await b.get(shard, s.id, Date.now()); // hit
    const value = async (name: string) => valueOf(parseExposition(await metrics.scrape()), name);
    expect(await value('holdfast_near_cache_hits_total')).toBe(2);
    expect(await value('holdfast_near_cache_misses_total')).toBe(1);
    expect(await value('holdfast_near_cache_entries')).toBe(1);
    expect(await value('holdfast_near_cache_subscribed')).toBe(1);
    await a.revoke(shard, s.id, userId);
    expect(await value('holdfast_near_cache_invalidations_total')).toBe(1);
    expect(await value('holdfast_near_cache_entries')).toBe(0);
    await b.stop();
    expect(await value('holdfast_near_cache_subscribed')).toBe(0);
    expect(await value('holdfast_near_cache_drops_total')).toBe(1);
    expect(await value('holdfast_near_cache_publish_failures_total')).toBe(0);
  });
});
