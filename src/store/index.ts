import type { Settings } from '../config';
import type { SessionEngine } from './engine';
import { MemoryEngine } from './memory/memory-engine';

export * from './engine';
export { KeyLayout, SWEEP_GRACE_MS } from './keys';
export { MemoryEngine } from './memory/memory-engine';

/** The engine the settings name. (The Redis engine is wired in here by its own change.) */
export function createEngine(settings: Settings): SessionEngine {
  if (settings.store.type === 'memory') return new MemoryEngine(settings.store.redis.shards);
  throw new Error('store.type redis: the Redis engine is not wired in yet');
}
