import { collectDefaultMetrics, Registry } from 'prom-client';
import { DEFAULT_METRICS_CONFIG, METRICS } from './catalogue';
import { gauge } from './instruments';
import type { MetricsOptions } from './metrics';
import { PreflightCheckResult, preflightValues } from './preflight-status';

/**
 * The node:cluster primary's own registry: what only the primary knows (the preflight it ran
 * before forking) and its own process metrics. clusterScrape() aggregates it with the workers'.
 */
export class PrimaryMetrics {
  readonly registry = new Registry();
  private readonly preflight;
  private readonly drift;

  constructor(opts: Pick<MetricsOptions, 'defaultMetrics'> = {}) {
    this.preflight = gauge(this.registry, METRICS.preflightStatus);
    this.drift = gauge(this.registry, METRICS.storeDrift);
    if (opts.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, ...DEFAULT_METRICS_CONFIG });
    }
  }

  setPreflight(results: readonly PreflightCheckResult[]): void {
    this.preflight.reset();
    for (const [check, v] of preflightValues(results)) this.preflight.set({ check }, v);
  }

  /** The drift of each re-checked store check (StoreDrift.values), 1 drifted, 0 as at start. */
  setDrift(values: ReadonlyMap<string, number>): void {
    for (const [check, v] of values) this.drift.set({ check }, v);
  }
}
