import { EventEmitter } from 'node:events';

/**
 * Continuous store health: a ping every `intervalMs`, each bounded by `timeoutMs`, so readiness
 * follows the store within about a second when it goes away and when it comes back, without
 * waiting for a request to fail. State changes are events; `status` is a plain getter for
 * metrics and the readiness route.
 */

export type StoreState = 'unknown' | 'up' | 'down';

export interface StoreHealthStatus {
  readonly state: StoreState;
  readonly up: boolean;
  /** When the state last changed (epoch ms). */
  readonly since: number;
  /** Why the last check failed (never a secret: store errors carry addresses, not passwords). */
  readonly lastError?: string;
  /** Consecutive failed checks. */
  readonly failures: number;
  /** Extra figures from `details` (cluster state, masters, replicas), when given. */
  readonly details?: StoreDetails;
}

/** What a deeper look at the store says; the metrics' StoreHealthSnapshot takes these. */
export interface StoreDetails {
  readonly clusterOk: boolean;
  readonly masters?: number;
  readonly replicasOnline?: number;
  readonly failovers?: number;
  /** Busiest master's session shards over the mean (cluster only; ADR 185). */
  readonly shardRatio?: number;
  readonly busiestMaster?: string;
}

export interface StoreHealthOptions {
  /** Throws when the store does not answer (SessionEngine.ping). */
  readonly ping: () => Promise<void>;
  /** Optional deeper look, run every `detailsEveryMs` while the store is up. */
  readonly details?: () => Promise<StoreDetails>;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly detailsEveryMs?: number;
}

export interface StoreHealthEvents {
  /** The state changed (unknown -> up, up -> down, down -> up). */
  change: [StoreHealthStatus];
  /** Every finished check, changed or not. */
  check: [StoreHealthStatus];
}

export class StoreHealth extends EventEmitter<StoreHealthEvents> {
  private current: StoreHealthStatus = {
    state: 'unknown',
    up: false,
    since: Date.now(),
    failures: 0,
  };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<StoreHealthStatus> | undefined;
  private lastDetailsAt = 0;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly detailsEveryMs: number;

  constructor(private readonly opts: StoreHealthOptions) {
    super();
    this.intervalMs = opts.intervalMs ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.detailsEveryMs = opts.detailsEveryMs ?? 10_000;
  }

  get status(): StoreHealthStatus {
    return this.current;
  }

  get up(): boolean {
    return this.current.up;
  }

  /** Checks once now, then keeps checking until stop(). */
  async start(): Promise<StoreHealthStatus> {
    const first = await this.check();
    if (!this.timer) {
      this.timer = setInterval(() => void this.check(), this.intervalMs);
      // Health checks alone must not keep a stopping process alive.
      this.timer.unref();
    }
    return first;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check; a check already in flight is shared rather than doubled. */
  check(): Promise<StoreHealthStatus> {
    this.running ??= this.runCheck().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runCheck(): Promise<StoreHealthStatus> {
    let error: string | undefined;
    try {
      await withTimeout(this.opts.ping(), this.timeoutMs);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    let details = this.current.details;
    if (!error && this.opts.details && Date.now() - this.lastDetailsAt >= this.detailsEveryMs) {
      try {
        details = await withTimeout(this.opts.details(), this.timeoutMs);
        this.lastDetailsAt = Date.now();
      } catch {
        // Only the figures are missing; the ping said the store answers.
      }
    }
    const state: StoreState = error ? 'down' : 'up';
    const changed = state !== this.current.state;
    this.current = {
      state,
      up: state === 'up',
      since: changed ? Date.now() : this.current.since,
      lastError: error,
      failures: error ? this.current.failures + 1 : 0,
      details: error ? undefined : details,
    };
    if (changed) this.emit('change', this.current);
    this.emit('check', this.current);
    return this.current;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
