import { join } from 'node:path';
import type { RedisClient } from '../store';
import type { ScriptArg } from '../store/redis/commands';
import { writeThenWait } from '../store/redis/durable-write';
import { loadScriptDir } from '../store/redis/scripts';
import type { LuaScript } from '../store/redis/scripts';
import { batchesReads, readAlone, redirectOf, withRedirects } from '../store/redis/commands';
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
  return guard(operation, () => rereadEmpty(client, command, args, call));
}

/**
 * guardRead's read without the error mapping: an empty Cluster answer, or one a slot migration
 * redirected, is read again alone.
 */
export async function rereadEmpty<T>(
  client: RedisClient,
  command: 'get' | 'hget' | 'hgetall',
  args: readonly string[],
  call: () => Promise<T>,
): Promise<T> {
  let reply: T;
  try {
    reply = await call();
  } catch (err) {
    // A batch caught in a slot migration (MOVED, ASK, TRYAGAIN, or ioredis's "slots changed"):
    // the same read alone, following redirects, as session reads do (ADR 130).
    if (!batchesReads(client) || !redirectOf(err)) throw err;
    return readAlone(client, command, args) as Promise<T>;
  }
  if (!isEmpty(reply) || !batchesReads(client)) return reply;
  return readAlone(client, command, args) as Promise<T>;
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

/**
 * Where the user and throttle stores' changes go when store.redis.durability.replicas > 0 (ADR
 * 215): the engine's writes client, each change followed by WAIT on its connection, as session
 * writes are (a failover must not lose a password change). Never the reads client: WAIT blocks
 * the connection it runs on, and auto-pipelined session reads share that one.
 */
export interface DurableWrites {
  readonly client: () => RedisClient;
  readonly replicas: number;
  readonly timeout: number;
  /**
   * A user record's read (the master's, already sent) with replica reads (ADR 241): the engine's
   * RedisEngine.readRecord. Safe only because these writes WAIT for replicas too.
   */
  readonly readRecord?: (
    key: string,
    operation: string,
    primary: Promise<Record<string, string>>,
  ) => Promise<Record<string, string>>;
}

const CALL = loadScriptDir(join(__dirname, 'lua'), ['call'] as const).call;

/** A script on the writes client followed by WAIT; pending when too few replicas acknowledge. */
export function durableScript(
  durable: DurableWrites,
  operation: string,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  return guardScript(operation, script.name, async () =>
    text(await writeThenWait(durable.client(), operation, script, keys, args, durable)),
  );
}

/** WAIT's pipeline answers bulk strings as Buffers; these stores read strings (as evalScript gives). */
function text(reply: unknown): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString();
  return Array.isArray(reply) ? reply.map(text) : reply;
}

/** One write command (`command key ...args`) on the writes client followed by WAIT. */
export function durableCommand(
  durable: DurableWrites,
  operation: string,
  command: string,
  key: string,
  args: readonly ScriptArg[],
): Promise<unknown> {
  return durableScript(durable, operation, CALL, [key], [command, ...args]);
}
