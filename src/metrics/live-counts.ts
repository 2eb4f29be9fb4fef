import type { SessionCounts } from '../store/engine';

export interface LiveCountsOptions {
  /** A count younger than this is served from cache: scrapes (and several scrapers) never hammer the store. */
  readonly ttlMs: number;
  /** A count older than this is not reported at all: an absent figure is better than a wrong one. */
  readonly maxStaleMs: number;
  readonly clock?: () => number;
}

export const DEFAULT_LIVE_COUNTS: LiveCountsOptions = { ttlMs: 5000, maxStaleMs: 60000 };

/**
 * Live sessions and users, from the engine's O(shards) count, cached. One count runs at a time;
 * concurrent callers share it. When the store fails, the last figure is served until it is
 * `maxStaleMs` old, then null.
 */
export class LiveCounts {
  private last: { counts: SessionCounts; at: number } | null = null;
  /** Failed counts wait a period too: an outage must not turn each scrape into retries. */
  private attemptedAt = -Infinity;
  private inflight: Promise<void> | null = null;
  private readonly clock: () => number;

  constructor(
    private readonly count: () => Promise<SessionCounts>,
    private readonly opts: LiveCountsOptions = DEFAULT_LIVE_COUNTS,
    private readonly onCounted: (counts: SessionCounts) => void = () => {},
    private readonly onFailed: (err: unknown) => void = () => {},
  ) {
    this.clock = opts.clock ?? Date.now;
  }

  async get(): Promise<SessionCounts | null> {
    if (this.clock() - this.attemptedAt >= this.opts.ttlMs) {
      this.attemptedAt = this.clock();
      this.inflight ??= this.refresh().finally(() => (this.inflight = null));
      await this.inflight;
    }
    if (!this.last || this.clock() - this.last.at >= this.opts.maxStaleMs) return null;
    return this.last.counts;
  }

  private async refresh(): Promise<void> {
    try {
      const counts = await this.count();
      this.last = { counts, at: this.clock() };
      this.onCounted(counts);
    } catch (err) {
      this.onFailed(err);
    }
  }
}
