import type { SessionEngine } from '../engine';
import type { KeyLayout } from '../keys';
import type { MemoryEngine } from '../memory/memory-engine';
import type { RedisEngine } from '../redis/redis-engine';
import { MemoryBus, RedisBus } from './invalidation-bus';
import type { InvalidationBus, RedisBusOptions } from './invalidation-bus';
import { NearCacheEngine } from './near-cache-engine';
import type { NearCacheOptions } from './near-cache-engine';

export { NearCacheEngine } from './near-cache-engine';
export type { NearCacheOptions, NearCacheStats } from './near-cache-engine';
export { MemoryBus, RedisBus, decodeInvalidation, encodeInvalidation } from './invalidation-bus';
export type { BusListener, Invalidation, InvalidationBus } from './invalidation-bus';

/** The bus that goes with a store: Redis pub/sub on its connection, or an in-process emitter. */
export function invalidationBus(
  store: MemoryEngine | RedisEngine,
  layout: KeyLayout,
  options?: RedisBusOptions,
): InvalidationBus {
  if (store.kind === 'memory') return new MemoryBus(store);
  return new RedisBus(() => store.connection, layout, options);
}

/** `engine` (the store, maybe already timed) behind a near cache fed by the store's bus. */
export function withNearCache(
  engine: SessionEngine,
  store: MemoryEngine | RedisEngine,
  layout: KeyLayout,
  options: NearCacheOptions & RedisBusOptions,
): NearCacheEngine {
  return new NearCacheEngine(engine, invalidationBus(store, layout, options), options);
}
