import { Cluster } from 'ioredis';
import type { RedisClient } from './connection';
import type { LuaScript } from './scripts';
import { replyCode } from './store-errors';

export type ScriptArg = string | Buffer | number;
type EvalCommand = 'evalsha' | 'eval' | 'evalshaBuffer' | 'evalBuffer';

/** Attempts per command when the cluster redirects it (slot moved or migrating). */
const MAX_ATTEMPTS = 3;
const RETRY_DELAY_MS = 25;

/**
 * Runs a script by EVALSHA, falling back to EVAL once when the node has not cached it (first use
 * on a node, after a failover or SCRIPT FLUSH). `buffers` keeps binary replies as Buffers.
 */
export async function evalScript(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
  buffers = false,
): Promise<unknown> {
  // Typed by hand: ioredis generates the *Buffer variants at runtime only. (callBuffer is not an
  // option: auto-pipelining drops its command name.)
  const commands = client as unknown as Record<
    EvalCommand,
    (...argv: ScriptArg[]) => Promise<unknown>
  >;
  const call = (command: 'evalsha' | 'eval', head: string) => {
    const name: EvalCommand = buffers ? `${command}Buffer` : command;
    return commands[name](head, script.numKeys, ...keys, ...args);
  };
  return withRedirects(client, async () => {
    try {
      return await call('evalsha', script.sha);
    } catch (err) {
      if (replyCode(err) !== 'NOSCRIPT') throw err;
      return call('eval', script.lua);
    }
  });
}

/**
 * Runs a write script and WAIT in one pipeline, so both use the same connection: WAIT counts
 * only the writes of the connection it runs on. ioredis pins the pipeline to the node of the
 * script's keys but does not follow MOVED/ASK inside a pipeline that holds a write, so a
 * redirect is handled here: refresh the slot map and send the pair again (bounded).
 */
export async function evalThenWait(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArg[],
  replicas: number,
  timeout: number,
): Promise<{ reply: unknown; acknowledged: number }> {
  let useEval = false;
  for (let attempt = 1; ; attempt++) {
    const pipeline = client.pipeline();
    if (useEval) pipeline.call('eval', [script.lua, script.numKeys, ...keys, ...args]);
    else pipeline.call('evalsha', [script.sha, script.numKeys, ...keys, ...args]);
    pipeline.wait(replicas, timeout);
    const results = await pipeline.exec();
    if (!results || results.length !== 2)
      throw new Error(`${script.name}: pipeline returned no results`);
    const [[scriptErr, reply], [waitErr, acknowledged]] = results;
    if (scriptErr) {
      if (replyCode(scriptErr) === 'NOSCRIPT' && !useEval) {
        useEval = true;
        continue;
      }
      if (await redirected(client, scriptErr, attempt)) continue;
      throw scriptErr;
    }
    if (waitErr) throw waitErr;
    return { reply, acknowledged: Number(acknowledged) };
  }
}

/** Runs `fn`, again after a refreshed slot map when the cluster redirected it (bounded). */
export async function withRedirects<T>(client: RedisClient, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(await redirected(client, err, attempt))) throw err;
    }
  }
}

/** True when the error is a redirect worth another attempt (after refreshing slots or waiting). */
async function redirected(client: RedisClient, err: unknown, attempt: number): Promise<boolean> {
  const code = replyCode(err);
  if (attempt >= MAX_ATTEMPTS || (code !== 'MOVED' && code !== 'ASK' && code !== 'TRYAGAIN')) {
    return false;
  }
  if (client instanceof Cluster && code === 'MOVED') {
    await new Promise<void>((resolve) => client.refreshSlotsCache(() => resolve()));
  } else {
    // ASK / TRYAGAIN: a slot is migrating; the next attempt usually finds it settled.
    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
  }
  return true;
}
