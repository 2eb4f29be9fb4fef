import type { Settings } from '../config';
import type { RedisEngine } from '../store';
import type { SessionEngine } from '../store/engine';
import {
  MemoryThrottleStore,
  MemoryUserStore,
  RedisClient,
  RedisThrottleStore,
  RedisUserStore,
  ThrottleStore,
  UserStore,
} from '../users';

/**
 * The user store and throttle store that go with a session engine: Redis ones on the Redis
 * engine's own client (same connections, same topology), memory ones on the memory engine.
 */
export function createAccountStores(
  settings: Settings,
  engine: SessionEngine,
): { users: UserStore; throttle: ThrottleStore } {
  if (engine.kind === 'memory')
    return { users: new MemoryUserStore(), throttle: new MemoryThrottleStore() };
  // The engine's read client: auto-pipelined, masters only; never the writes client, whose WAIT
  // for durability would stall logins behind session writes.
  const client = (): RedisClient => (engine as RedisEngine).connection.reads;
  const prefix = settings.store.redis.keyPrefix;
  return {
    users: new RedisUserStore(client, prefix),
    throttle: new RedisThrottleStore(client, prefix),
  };
}
