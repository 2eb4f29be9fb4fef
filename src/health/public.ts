/**
 * `holdfast/health`: the health routes of `holdfast start` for an app that embeds Holdfast
 * (docs/api.md "Library mode").
 */
export { holdfastHealth } from './routes';
export type { HealthExposed, HealthRoutesOptions } from './routes';
export type { HealthServices } from './node-health';
export { Readiness } from './readiness';
export type { ReadinessState } from './readiness';
export { StoreHealth } from './store-health';
export type { StoreHealthStatus, StoreState } from './store-health';
