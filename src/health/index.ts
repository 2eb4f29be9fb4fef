export { StoreHealth } from './store-health';
export type {
  StoreDetails,
  StoreHealthEvents,
  StoreHealthOptions,
  StoreHealthStatus,
  StoreState,
} from './store-health';
export { Readiness } from './readiness';
export type { ReadinessState } from './readiness';
export { healthRoutes, holdfastHealth, PROBE_TAG } from './routes';
export type { HealthExposed, HealthRoutesOptions } from './routes';
export { createNodeHealth } from './node-health';
export type { HealthServices, NodeHealth } from './node-health';
export { RedisTopology } from './topology';
export { DRIFT_CHECK_IDS, StoreDrift } from './drift';
export type { DriftChange, StoreDriftOptions } from './drift';
export { ShardBalanceAlarm } from './shard-balance';
