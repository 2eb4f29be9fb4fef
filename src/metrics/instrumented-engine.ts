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
import type { BoundHistogram, Observer } from './bound-histogram';

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
 * knows about metrics. It adds two clock reads and one bound observe per call, nothing on the wire;
 * no async frame of its own (ADR 235): the inner promise is passed on with one then().
 */
export class InstrumentedEngine implements SessionEngine {
  /** The histogram's child per operation for outcome ok, bound once: one per call. */
  private readonly ok = new Map<StoreOperation, Observer>();
  /** Children for the other outcomes, made on first use. */
  private readonly failed = new Map<string, Observer>();

  constructor(
    readonly inner: SessionEngine,
    private readonly histogram: BoundHistogram<'operation' | 'outcome'>,
  ) {
    for (const operation of STORE_OPERATIONS) {
      this.ok.set(operation, histogram.bind({ operation, outcome: 'ok' }));
    }
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

  private time<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let pending: Promise<T>;
    try {
      pending = run();
    } catch (err) {
      this.fail(operation, started, err);
      return Promise.reject(err);
    }
    return pending.then(
      (value) => {
        (this.ok.get(operation) as Observer).observe((performance.now() - started) / 1e3);
        return value;
      },
      (err: unknown) => {
        this.fail(operation, started, err);
        throw err;
      },
    );
  }

  private fail(operation: StoreOperation, started: number, err: unknown): void {
    const seconds = (performance.now() - started) / 1e3;
    const outcome: StoreOutcome = err instanceof StoreUnavailableError ? 'unavailable' : 'error';
    const key = `${operation} ${outcome}`;
    let child = this.failed.get(key);
    if (!child) {
      child = this.histogram.bind({ operation, outcome });
      this.failed.set(key, child);
    }
    child.observe(seconds);
  }
}
