/**
 * `holdfast/metrics`: the Prometheus metrics of `holdfast start` for an app that embeds Holdfast
 * (docs/api.md "Library mode"; names in docs/metrics.md).
 */
export { holdfastMetrics } from './plugin';
export type { MetricsPluginOptions } from './plugin';
export { createMetrics, Metrics } from './metrics';
export type { MetricsOptions } from './metrics';
export { METRICS } from './catalogue';
