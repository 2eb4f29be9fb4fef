import type { Histogram } from 'prom-client';
import { StoreUnavailableError } from '../errors';
import type {
  EngineStats,
  SeriesUse,
  SessionCounts,
  SessionEngine,
  ShardRevoked,
  StoredSeries,
  StoredSession,
} from '../store/engine';

export type StoreOperation = Exclude<keyof SessionEngine, 'kind' | 'shards' | 'stats'>;
export type StoreOutcome = 'ok' | 'unavailable' | 'error';

/** Every timed operation: the label values of holdfast_store_operation_duration_seconds. */
export const STORE_OPERATIONS: readonly StoreOperation[] = [
  'start',
  'stop',
  'ping',
  'create',
  'get',
  'touch',
  'rotate',
  'revoke',
  'revokeUser',
  'revokeShard',
  'listUser',
  'count',
  'createSeries',
  'useSeries',
  'revokeSeries',
];

/**
 * A SessionEngine that times every call of the engine it wraps into a histogram, so no store code
 * knows about metrics. It adds one hrtime pair per call: nothing on the wire.
 */
export class InstrumentedEngine implements SessionEngine {
  /** The histogram's child per operation and outcome, made on first use (see observe()). */
  private readonly children = new Map<string, { observe(value: number): void }>();

  constructor(
    readonly inner: SessionEngine,
    private readonly histogram: Histogram<'operation' | 'outcome'>,
  ) {}

  get kind(): SessionEngine['kind'] {
    return this.inner.kind;
  }
  get shards(): number {
    return this.inner.shards;
  }
  get stats(): EngineStats {
    return this.inner.stats;
  }

  start(): Promise<void> {
    return this.time('start', () => this.inner.start());
  }
  stop(): Promise<void> {
    return this.time('stop', () => this.inner.stop());
  }
  ping(): Promise<void> {
    return this.time('ping', () => this.inner.ping());
  }
  create(shard: number, session: StoredSession, maxPerUser: number): Promise<string[] | null> {
    return this.time('create', () => this.inner.create(shard, session, maxPerUser));
  }
  get(shard: number, id: string, now: number): Promise<StoredSession | null> {
    return this.time('get', () => this.inner.get(shard, id, now));
  }
  touch(
    shard: number,
    id: string,
    lastSeenAt: number,
    expiresAt: number,
    now: number,
  ): Promise<boolean> {
    return this.time('touch', () => this.inner.touch(shard, id, lastSeenAt, expiresAt, now));
  }
  rotate(shard: number, oldId: string, next: StoredSession, now: number): Promise<boolean> {
    return this.time('rotate', () => this.inner.rotate(shard, oldId, next, now));
  }
  revoke(shard: number, id: string, userId?: string): Promise<boolean> {
    return this.time('revoke', () => this.inner.revoke(shard, id, userId));
  }
  revokeUser(shard: number, userId: string, exceptId?: string, epoch?: number): Promise<string[]> {
    return this.time('revokeUser', () => this.inner.revokeUser(shard, userId, exceptId, epoch));
  }
  revokeShard(shard: number): Promise<ShardRevoked> {
    return this.time('revokeShard', () => this.inner.revokeShard(shard));
  }
  listUser(shard: number, userId: string, now: number): Promise<StoredSession[]> {
    return this.time('listUser', () => this.inner.listUser(shard, userId, now));
  }
  count(now: number): Promise<SessionCounts> {
    return this.time('count', () => this.inner.count(now));
  }
  createSeries(shard: number, series: StoredSeries, maxPerUser: number): Promise<boolean> {
    return this.time('createSeries', () => this.inner.createSeries(shard, series, maxPerUser));
  }
  useSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    nextHash: Buffer,
    now: number,
    grace: number,
  ): Promise<SeriesUse> {
    return this.time('useSeries', () =>
      this.inner.useSeries(shard, id, presentedHash, nextHash, now, grace),
    );
  }
  revokeSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    now: number,
    grace: number,
  ): Promise<boolean> {
    return this.time('revokeSeries', () =>
      this.inner.revokeSeries(shard, id, presentedHash, now, grace),
    );
  }

  private async time<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    let outcome: StoreOutcome = 'ok';
    try {
      return await run();
    } catch (err) {
      outcome = err instanceof StoreUnavailableError ? 'unavailable' : 'error';
      throw err;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.observe(operation, outcome, seconds);
    }
  }

  /** observe() with a label object hashes it each time; a session read is on every request. */
  private observe(operation: StoreOperation, outcome: StoreOutcome, seconds: number): void {
    const key = outcome === 'ok' ? operation : `${operation} ${outcome}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.histogram.labels({ operation, outcome });
      this.children.set(key, child);
    }
    child.observe(seconds);
  }
}
