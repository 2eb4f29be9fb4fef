import type { Settings } from '../config/settings';
import { MemoryEngine } from './memory/memory-engine';
import { RedisEngine } from './redis/redis-engine';

export type * from './engine';
export { KeyLayout, SWEEP_GRACE_MS } from './keys';
export { MalformedRecord } from './record-codec';
export { MemoryEngine } from './memory/memory-engine';
export { ExpirySweeper } from './expiry-sweeper';
export type { ExpirySweeperOptions, SweeperStats } from './expiry-sweeper';
export { RedisEngine, SWEEP_LIMIT } from './redis/redis-engine';
export type { RedisEngineOptions } from './redis/redis-engine';
export { RedisConnection } from './redis/connection';
export { durability, DURABLE_OPERATIONS, DurabilityLedger } from './durability';
export type { DurabilityScope, PendingWrite } from './durability';
export { storeUnavailable, UNAVAILABLE_CAUSES, UnavailableLog } from './redis/unavailable';
export type { UnavailableCause, UnavailableReport } from './redis/unavailable';
export { resolveName, storeSeeds, SeedLog } from './redis/rediscovery';
export type { RedisClient } from './redis/connection';
export { LAYOUT_FORMAT } from './redis/meta';
export type { StoreMeta } from './redis/meta';

/** Either engine; `kind` tells them apart (`engine.kind === 'redis'` gives `connection`, `meta`). */
export type StoreEngine = MemoryEngine | RedisEngine;

/** The engine store.type names: in-process for development and tests, Redis otherwise. */
export function createEngine(settings: Settings): StoreEngine {
  switch (settings.store.type) {
    case 'memory':
      return new MemoryEngine(settings.store.redis.shards);
    case 'redis':
      return new RedisEngine(settings.store.redis, { countMaxLagMs: settings.store.sweep.maxLag });
  }
}
export { NearCacheEngine, withNearCache, invalidationBus } from './near-cache';
export type { NearCacheOptions, NearCacheStats, Invalidation, InvalidationBus } from './near-cache';
