import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import type {
  EngineStats,
  SeriesUse,
  SessionCounts,
  SessionEngine,
  ShardRevoked,
  StoredSeries,
  StoredSession,
} from '../engine';
import type { Invalidation, InvalidationBus } from './invalidation-bus';

export interface NearCacheOptions {
  /** The longest a cached session is served without reading the store (ms). */
  readonly staleness: number;
  readonly maxEntries: number;
}

/** Plain counters (catbox `stats` style); metrics/ exports them. */
export interface NearCacheStats {
  /** Reads answered from the cache. */
  hits: number;
  /** Reads that went to the store (not cached, too old, or the subscription is down). */
  misses: number;
  /** Invalidation messages applied (this worker's own included). */
  invalidations: number;
  /** Times the whole cache was dropped because the subscription was lost. */
  drops: number;
  /** Invalidations that could not be published (the staleness bound covers them). */
  publishFailures: number;
  /** The subscription is complete: only then is anything cached or served from the cache. */
  subscribed: boolean;
}

/** A hit waiting for its turn (see get). */
interface PendingHit {
  readonly entry: Entry;
  readonly id: string;
  readonly now: number;
  readonly resolve: (answer: StoredSession | null | Promise<StoredSession | null>) => void;
}

interface Entry {
  readonly session: StoredSession;
  readonly shard: number;
  /** performance.now() after which the entry is not served: read start + staleness. */
  readonly until: number;
}

/**
 * A SessionEngine that keeps recently read sessions per worker for at most `staleness` (ADR 225).
 * Every operation that ends or changes a session publishes an invalidation that every near cache
 * sharing the store applies. Correctness does not depend on the messages: an entry is never
 * served past its read time + staleness, nor past the session's own deadline; while the
 * subscription is down nothing is cached or served. Everything else passes through unchanged.
 */
export class NearCacheEngine implements SessionEngine {
  readonly cacheStats: NearCacheStats = {
    hits: 0,
    misses: 0,
    invalidations: 0,
    drops: 0,
    publishFailures: 0,
    subscribed: false,
  };
  private readonly cache: LRUCache<string, Entry>;
  /**
   * Raised by every invalidation of a shard: a read that started before must not be cached. By
   * shard, any shard: after a growth (ADR 260) cookies name shards above the configured count.
   */
  private readonly generations = new Map<number, number>();
  /** Raised on every subscription change and whole-cache drop (same purpose, every shard). */
  private epoch = 0;
  /** Hits found in this turn of the event loop, answered together in its check phase. */
  private hits: PendingHit[] = [];

  constructor(
    readonly inner: SessionEngine,
    private readonly bus: InvalidationBus,
    private readonly options: NearCacheOptions,
  ) {
    this.cache = new LRUCache({ max: options.maxEntries });
  }

  get kind(): SessionEngine['kind'] {
    return this.inner.kind;
  }
  get shards(): number {
    return this.inner.shards;
  }
  get sessionFormat(): SessionEngine['sessionFormat'] {
    return this.inner.sessionFormat;
  }
  get stats(): EngineStats {
    return this.inner.stats;
  }
  /** Sessions held now. */
  get size(): number {
    return this.cache.size;
  }
  /** Whether a session is held now (tests, diagnostics); its recency is left as it is. */
  holds(id: string): boolean {
    return this.cache.peek(id) !== undefined;
  }

  async start(): Promise<void> {
    await this.inner.start();
    this.bus.start({
      message: (inv) => {
        this.cacheStats.invalidations++;
        this.invalidate(inv);
      },
      state: (up) => this.subscription(up),
    });
  }

  async stop(): Promise<void> {
    await this.bus.stop();
    await this.inner.stop();
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  /**
   * A hit is answered in the event loop's check phase (setImmediate), together with every other
   * hit found in the same turn, not at once (ADR 250). Answered at once, each request ran from its
   * socket's read to its response's write inside one I/O callback, and the worker went back to
   * the poller after every request: over HTTP that cost more CPU per request than the strict
   * path, whose Redis replies answer many requests per callback (measured: 131 µs against 106 µs
   * per request, and 85 µs deferred, docs/performance.md). An entry invalidated before its turn
   * comes (a message, this worker's own revocation, a dropped subscription) is not served: that
   * read goes to the store.
   */
  get(shard: number, id: string, now: number): Promise<StoredSession | null> {
    if (this.cacheStats.subscribed) {
      const entry = this.cache.get(id);
      if (entry) {
        if (
          entry.shard === shard &&
          performance.now() < entry.until &&
          now < entry.session.expiresAt
        ) {
          return new Promise((resolve) => {
            if (this.hits.push({ entry, id, now, resolve }) === 1) setImmediate(this.answerHits);
          });
        }
        this.cache.delete(id);
      }
    }
    return this.read(shard, id, now);
  }

  /**
   * The hits of one turn: each still in the cache and still within the staleness is served from
   * it (a long turn must not stretch the bound), the others are read again.
   */
  private readonly answerHits = (): void => {
    const hits = this.hits;
    this.hits = [];
    const at = performance.now();
    for (const hit of hits) {
      if (this.cache.peek(hit.id) === hit.entry && at < hit.entry.until) {
        this.cacheStats.hits++;
        hit.resolve(hit.entry.session);
      } else {
        hit.resolve(this.read(hit.entry.shard, hit.id, hit.now));
      }
    }
  };

  /** A read through to the store, kept when no invalidation overtook it. */
  private async read(shard: number, id: string, now: number): Promise<StoredSession | null> {
    this.cacheStats.misses++;
    const epoch = this.epoch;
    const generation = this.generations.get(shard);
    const started = performance.now();
    const session = await this.inner.get(shard, id, now);
    // Only a read that no invalidation overtook, made while subscribed, may be kept.
    if (
      session &&
      this.cacheStats.subscribed &&
      epoch === this.epoch &&
      generation === this.generations.get(shard)
    ) {
      this.cache.set(id, { session, shard, until: started + this.options.staleness });
    }
    return session;
  }

  async touch(
    shard: number,
    id: string,
    lastSeenAt: number,
    expiresAt: number,
    now: number,
  ): Promise<boolean> {
    const done = await this.inner.touch(shard, id, lastSeenAt, expiresAt, now);
    // Every cache drops its copy: one holding the old lastSeenAt would renew again on each request.
    await this.publish({ shard, ids: [id] });
    return done;
  }

  async create(
    shard: number,
    session: StoredSession,
    maxPerUser: number,
  ): Promise<string[] | null> {
    const evicted = await this.inner.create(shard, session, maxPerUser);
    if (evicted && evicted.length > 0) await this.publish({ shard, ids: evicted });
    return evicted;
  }

  async rotate(shard: number, oldId: string, next: StoredSession, now: number): Promise<boolean> {
    const done = await this.inner.rotate(shard, oldId, next, now);
    if (done) await this.publish({ shard, ids: [oldId] });
    return done;
  }

  async revoke(shard: number, id: string, userId?: string): Promise<boolean> {
    const done = await this.inner.revoke(shard, id, userId);
    if (done) await this.publish({ shard, ids: [id] });
    return done;
  }

  async revokeUser(
    shard: number,
    userId: string,
    exceptId?: string,
    epoch?: number,
  ): Promise<string[]> {
    const ended = await this.inner.revokeUser(shard, userId, exceptId, epoch);
    if (ended.length > 0) await this.publish({ shard, ids: ended });
    return ended;
  }

  async revokeShard(shard: number): Promise<ShardRevoked> {
    const ended = await this.inner.revokeShard(shard);
    await this.publish({ shard, ids: 'all' });
    return ended;
  }

  listUser(shard: number, userId: string, now: number): Promise<StoredSession[]> {
    return this.inner.listUser(shard, userId, now);
  }
  count(now: number): Promise<SessionCounts> {
    return this.inner.count(now);
  }
  createSeries(shard: number, series: StoredSeries, maxPerUser: number): Promise<boolean> {
    return this.inner.createSeries(shard, series, maxPerUser);
  }
  useSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    nextHash: Buffer,
    now: number,
    grace: number,
  ): Promise<SeriesUse> {
    // Theft ends the user's sessions through revokeUser, which publishes.
    return this.inner.useSeries(shard, id, presentedHash, nextHash, now, grace);
  }
  revokeSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    now: number,
    grace: number,
  ): Promise<boolean> {
    return this.inner.revokeSeries(shard, id, presentedHash, now, grace);
  }

  /** Applied here first (this worker must not wait for its own message), then sent to all. */
  private async publish(inv: Invalidation): Promise<void> {
    this.invalidate(inv);
    if (!(await this.bus.publish(inv))) this.cacheStats.publishFailures++;
  }

  private invalidate(inv: Invalidation): void {
    this.generations.set(inv.shard, (this.generations.get(inv.shard) ?? 0) + 1);
    if (inv.ids === 'all') {
      for (const [id, entry] of this.cache.entries()) {
        if (entry.shard === inv.shard) this.cache.delete(id);
      }
      return;
    }
    for (const id of inv.ids) this.cache.delete(id);
  }

  private subscription(up: boolean): void {
    this.epoch++;
    if (!up) this.cacheStats.drops++;
    // Lost: messages may be missed from now on. Back: some may have been missed meanwhile.
    this.cache.clear();
    this.cacheStats.subscribed = up;
  }
}
