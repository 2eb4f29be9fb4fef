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
export { healthRoutes } from './routes';
export type { HealthRoutesOptions } from './routes';
export { RedisTopology } from './topology';
