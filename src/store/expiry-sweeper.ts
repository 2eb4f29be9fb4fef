import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ExpirySweeping, SweepResult } from './engine';

/**
 * The expiry sweeper (ADR 230): takes expired sessions out of the indexes and the per-shard
 * counters, so a count reads counters alone. Every serving process runs one; the store's lease
 * lets one of them sweep at a time. Each tick (every `intervalMs`) takes or extends the lease,
 * then, when held, sweeps every shard with something due. Ticks never overlap; a failed tick (the
 * store away) is counted and the next one tries again.
 */
export interface ExpirySweeperOptions {
  /** Time between the end of one tick and the start of the next (store.sweep.interval). */
  readonly intervalMs: number;
  /**
   * How long a lease lasts without a renewal: a holder that dies is replaced within it
   * (default: 5 × intervalMs, so a slow tick or two do not hand the lease around).
   */
  readonly leaseMs?: number;
  readonly clock?: () => number;
  /** A tick that failed (the store was unreachable): for a rate-limited log line. */
  readonly onError?: (err: unknown) => void;
  /** Each sweep this process made, for tests and logs. */
  readonly onSwept?: (result: SweepResult) => void;
}

/** Plain counters (catbox style); metrics/ exports `expired` into holdfast_sessions_expired_total. */
export interface SweeperStats {
  /** Expired entries this process swept. */
  expired: number;
  /** Sweeps this process ran (ticks with the lease held). */
  sweeps: number;
  /** Ticks that failed. */
  failures: number;
  /** Whether this process held the lease at its last tick. */
  holding: boolean;
}

export class ExpirySweeper {
  readonly stats: SweeperStats = { expired: 0, sweeps: 0, failures: 0, holding: false };
  /** Names this process in the lease key (host, pid, a random part): never a secret. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  private readonly leaseMs: number;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly engine: ExpirySweeping,
    private readonly opts: ExpirySweeperOptions,
  ) {
    if (!(opts.intervalMs > 0)) throw new RangeError('the sweep interval must be above 0 ms');
    this.leaseMs = opts.leaseMs ?? 5 * opts.intervalMs;
    this.clock = opts.clock ?? Date.now;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops ticking, waits for a tick in flight, and gives the lease back so another takes it now. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.stats.holding) {
      this.stats.holding = false;
      await this.engine.lease(this.owner, 0).catch(() => false);
    }
  }

  /** One tick: the lease, then a sweep when held. Public so tests can drive it step by step. */
  async tick(): Promise<SweepResult | null> {
    try {
      this.stats.holding = await this.engine.lease(this.owner, this.leaseMs);
      if (!this.stats.holding) return null;
      const result = await this.engine.sweep(this.clock());
      this.stats.sweeps++;
      this.stats.expired += result.expired;
      this.opts.onSwept?.(result);
      return result;
    } catch (err) {
      this.stats.failures++;
      this.opts.onError?.(err);
      return null;
    }
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().then(() => {
        this.running = undefined;
        this.schedule(this.opts.intervalMs);
      });
    }, delay);
    // The sweeper never keeps a process alive on its own.
    this.timer.unref();
  }
}
