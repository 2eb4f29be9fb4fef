import type { Counter } from 'prom-client';

/**
 * Exports a plain counter (catbox-style `stats`) as a Prometheus counter: at each scrape, adds
 * what the source gained since the last one. Only deltas are added, so the exported counter stays
 * monotonic and the hot path keeps its `n++`.
 */
export class CounterSync<L extends string> {
  private readonly seen = new Map<string, number>();
  constructor(private readonly target: Counter<L>) {}

  sync(label: L | null, value: string | null, current: number): void {
    const key = `${label}=${value}`;
    const delta = current - (this.seen.get(key) ?? 0);
    this.seen.set(key, current);
    if (delta <= 0) return;
    if (label === null || value === null) this.target.inc(delta);
    else this.target.inc({ [label]: value } as Partial<Record<L, string>>, delta);
  }
}
