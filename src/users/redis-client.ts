import type { RedisClient } from '../store';
import { withRedirects } from '../store/redis/commands';
import { scriptError, storeError } from '../store/redis/store-errors';

/** The ioredis client the Redis session engine holds (a Cluster, or one Redis for sentinel/standalone). */
export type { RedisClient };

/**
 * Runs one store call with the session engine's error rules: an outage becomes
 * StoreUnavailableError (the plugin answers 503), a bug stays itself (500), never a 401. A slot
 * migration's redirect (MOVED/ASK/TRYAGAIN) is tried again with a short backoff first: ioredis
 * follows ASK itself when the auto-pipelined batch holds only the redirected reads; evalScript
 * retries its scripts outside auto-pipelining.
 */
export async function guard<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await withRedirects(undefined, () => call());
  } catch (err) {
    throw storeError(operation, err);
  }
}

/** guard for one Lua script: an error reply that is not an outage is HF_STORE_SCRIPT naming it. */
export async function guardScript<T>(
  operation: string,
  script: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw scriptError(operation, script, err);
  }
}
