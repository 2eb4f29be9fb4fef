/**
 * Decides what to do when a worker dies: replace it after a growing delay, or, when workers keep
 * dying (a crash loop), stop the node with a clear message instead of spinning forever.
 */
export interface CrashGuardOptions {
  /** This many deaths within `windowMs` is a crash loop (default 5 in 30 s). */
  readonly maxDeaths: number;
  readonly windowMs: number;
  /** First replacement delay; doubles with each recent death, up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_CRASH_GUARD: CrashGuardOptions = {
  maxDeaths: 5,
  windowMs: 30_000,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
};

export type CrashDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly recentDeaths: number }
  | { readonly action: 'stop'; readonly recentDeaths: number };

export class CrashGuard {
  private deaths: number[] = [];

  constructor(private readonly opts: CrashGuardOptions = DEFAULT_CRASH_GUARD) {}

  onDeath(now: number = Date.now()): CrashDecision {
    this.deaths = this.deaths.filter((t) => now - t < this.opts.windowMs);
    this.deaths.push(now);
    const recentDeaths = this.deaths.length;
    if (recentDeaths >= this.opts.maxDeaths) return { action: 'stop', recentDeaths };
    const delayMs = Math.min(this.opts.baseDelayMs * 2 ** (recentDeaths - 1), this.opts.maxDelayMs);
    return { action: 'restart', delayMs, recentDeaths };
  }
}
