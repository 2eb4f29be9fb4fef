import type { RedisClient } from '../store';
import { batchesReads, readAlone, withRedirects } from '../store/redis/commands';
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

/**
 * guard for a read whose empty reply (nil, or an empty hash) means "there is none": on a Cluster
 * that auto-pipelines, an empty reply is confirmed by the same read sent alone, since during a
 * slot migration a batched read can come back empty for a key that exists (readAlone, ADR 160).
 */
export async function guardRead<T>(
  operation: string,
  client: RedisClient,
  command: 'get' | 'hget' | 'hgetall',
  args: readonly string[],
  call: () => Promise<T>,
): Promise<T> {
  const reply = await guard(operation, call);
  if (!isEmpty(reply) || !batchesReads(client)) return reply;
  return guard(operation, () => readAlone(client, command, args) as Promise<T>);
}

function isEmpty(reply: unknown): boolean {
  return reply === null || (typeof reply === 'object' && Object.keys(reply).length === 0);
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
