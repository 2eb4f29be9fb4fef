import { performance } from 'node:perf_hooks';
import { HoldfastError } from '../errors';
import { deadlines } from '../store/deadline';

/**
 * `verify`: someone is waiting to sign in (a login, a current-password confirmation).
 * `hash`: a new hash (registration, password change, re-hash at a new cost).
 */
export type HashLane = 'verify' | 'hash';

/** Too much password work is waiting in this process: retry after `retryAfterMs`. */
export class BusyError extends HoldfastError {
  constructor(readonly retryAfterMs: number) {
    super(
      'HF_BUSY',
      'this server has too many password checks waiting: retry after the Retry-After delay',
    );
  }
}

/** Plain counters (catbox `stats`): jobs started and refused per lane. */
export interface HashQueueStats {
  readonly started: Record<HashLane, number>;
  readonly refused: Record<HashLane, number>;
}

/**
 * Bounds the scrypt work of one process. scrypt runs on libuv's thread pool (UV_THREADPOOL_SIZE,
 * 4 by default), which DNS lookups and file I/O share; without a bound, a burst of anonymous
 * registrations fills every pool thread and each login waits behind all of them. At most
 * `concurrency` jobs run, and the rest wait in two lanes. `verify` goes first: a free slot goes to
 * a waiting verification before any waiting hash, and `hash` jobs never take the last slot (with
 * concurrency >= 2), so a login under a registration flood starts at once instead of waiting for
 * a hash to finish. Each lane holds at most `maxQueued` waiting jobs; past that a job is refused
 * at once (BusyError: 503 with Retry-After) instead of waiting ever longer. Under a sustained
 * login flood `hash` jobs wait until it ends or their lane overflows.
 */
export class HashQueue {
  readonly stats: HashQueueStats = {
    started: { verify: 0, hash: 0 },
    refused: { verify: 0, hash: 0 },
  };
  private readonly running: Record<HashLane, number> = { verify: 0, hash: 0 };
  private readonly waiting: Record<HashLane, Array<() => void>> = { verify: [], hash: [] };
  /** Slots `hash` jobs may hold: all but one, so a login always finds one free. */
  private readonly hashSlots: number;
  /** Moving average of a job's duration, for Retry-After. */
  private averageMs = 100;

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {
    if (!(concurrency >= 1)) throw new RangeError('password.maxConcurrentHashes must be >= 1');
    this.hashSlots = concurrency > 1 ? concurrency - 1 : 1;
  }

  /** Jobs waiting in a lane (tests, metrics). */
  queued(lane: HashLane): number {
    return this.waiting[lane].length;
  }

  /**
   * Throws BusyError now when a job of `lane` would be refused, so a caller can refuse before it
   * counts or changes anything (a login before the throttle counts the attempt).
   */
  admit(lane: HashLane): void {
    if (!this.canStart(lane) && this.waiting[lane].length >= this.maxQueued) {
      this.stats.refused[lane]++;
      throw new BusyError(this.retryAfterMs());
    }
  }

  /** Not counted against the request's store deadline (ADR 245): a hash is CPU, not store, time. */
  run<T>(lane: HashLane, job: () => Promise<T>): Promise<T> {
    return deadlines.paused(() => this.inTurn(lane, job));
  }

  private async inTurn<T>(lane: HashLane, job: () => Promise<T>): Promise<T> {
    if (this.canStart(lane)) {
      this.running[lane]++;
    } else {
      this.admit(lane);
      // pump() counts the job as running before it resumes it.
      await new Promise<void>((resolve) => this.waiting[lane].push(resolve));
    }
    this.stats.started[lane]++;
    const start = performance.now();
    try {
      return await job();
    } finally {
      this.averageMs = 0.8 * this.averageMs + 0.2 * (performance.now() - start);
      this.running[lane]--;
      this.pump();
    }
  }

  private canStart(lane: HashLane): boolean {
    const total = this.running.verify + this.running.hash;
    if (total >= this.concurrency) return false;
    // Nothing may overtake a job already waiting in its own lane or a higher one.
    if (lane === 'verify') return this.waiting.verify.length === 0;
    return (
      this.running.hash < this.hashSlots &&
      this.waiting.verify.length === 0 &&
      this.waiting.hash.length === 0
    );
  }

  /** Hands free slots to waiting jobs, verifications first. */
  private pump(): void {
    while (this.running.verify + this.running.hash < this.concurrency) {
      let lane: HashLane;
      if (this.waiting.verify.length > 0) lane = 'verify';
      else if (this.waiting.hash.length > 0 && this.running.hash < this.hashSlots) lane = 'hash';
      else return;
      this.running[lane]++;
      (this.waiting[lane].shift() as () => void)();
    }
  }

  /** About when the work ahead of a new job would be done; at least a second. */
  private retryAfterMs(): number {
    const ahead =
      this.running.verify +
      this.running.hash +
      this.waiting.verify.length +
      this.waiting.hash.length;
    return Math.max(1000, Math.ceil((ahead / this.concurrency) * this.averageMs));
  }
}
