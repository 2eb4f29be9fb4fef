import { Cluster, Command } from 'ioredis';
import type { ChainableCommander, Redis } from 'ioredis';
import { deadlines } from '../deadline';
import type { RedisClient } from './connection';
import type { LuaScript } from './scripts';
import { replyCode } from './store-errors';

export type ScriptArg = string | Buffer | number;
type EvalCommand = 'evalsha' | 'eval' | 'evalshaBuffer' | 'evalBuffer';

/**
 * Slot migration (resharding, adding or draining a master) answers MOVED, ASK or TRYAGAIN for a
 * few milliseconds per slot. Such a command is tried again, for as long as the operation's
 * deadline allows: the client's commandTimeout (the time a store operation may take anyway),
 * else DEFAULT_BUDGET_MS, and never past the request's deadline (ADR 245). ASK and the first MOVED
 * are followed at once; TRYAGAIN (and MOVED again) waits a doubling delay from FIRST_DELAY_MS up to
 * MAX_DELAY_MS.
 */
const FIRST_DELAY_MS = 5;
const MAX_DELAY_MS = 100;
const DEFAULT_BUDGET_MS = 2000;
/** Redirects followed without a delay, per operation; more means the slot map is moving, so wait. */
const MAX_HOPS = 3;

const SLOT_GROUP_CHANGED =
  /^All keys in the pipeline should belong to the same slots allocation group/;

export type RedirectCode = 'MOVED' | 'ASK' | 'TRYAGAIN';

export interface Redirect {
  readonly code: RedirectCode;
  /** The node MOVED/ASK names (`host:port`). */
  readonly address?: string;
}

/**
 * The redirect `err` is (also when ioredis gave up following redirects and names the last one in
 * "Too many Cluster redirections. Last error: ..."), or undefined.
 */
export function redirectOf(err: unknown): Redirect | undefined {
  if (!(err instanceof Error)) return undefined;
  // ioredis rejects an auto-pipelined batch whose slots changed owner between queueing and
  // sending (the slot map was refreshed mid-migration): nothing was sent; as MOVED without a node.
  if (SLOT_GROUP_CHANGED.test(err.message)) return { code: 'MOVED' };
  const reply = replyCode(err)
    ? err.message
    : /^Too many Cluster redirections\. Last error: (?:\w+: )?(.*)$/s.exec(err.message)?.[1];
  const [code, , address] = (reply ?? '').split(' ');
  if (code === 'MOVED' || code === 'ASK') return { code, address };
  if (code === 'TRYAGAIN') return { code };
  // The node asked knows no owner for the slot: a moment of a migration (a master just added or
  // removed, its view behind the others'). Like MOVED without a node: new slot map, then again.
  // Not "CLUSTERDOWN The cluster is down": that lasts until a failover or a fix, so a 503 at once.
  if (code === 'CLUSTERDOWN' && reply?.startsWith('CLUSTERDOWN Hash slot not served'))
    return { code: 'MOVED' };
  return undefined;
}

/** How long an operation may keep retrying redirects: the client's commandTimeout. */
export function retryBudget(client: RedisClient | undefined): number {
  if (!client) return DEFAULT_BUDGET_MS;
  const timeout =
    client instanceof Cluster
      ? client.options.redisOptions?.commandTimeout
      : client.options.commandTimeout;
  return timeout && timeout > 0 ? timeout : DEFAULT_BUDGET_MS;
}

/** Where a retry goes: a node named by a redirect, with ASKING first after ASK. */
export interface Hop {
  readonly node: Redis;
  readonly asking: boolean;
}

/**
 * Runs `attempt` until it does not fail with a redirect or the deadline would pass. The first try
 * goes through the client (`hop` undefined: auto-pipelined, slot map); after MOVED or ASK the
 * retry is sent to the node named, as one pipeline (ASKING + the command after ASK), so nothing
 * between them can take the connection; after TRYAGAIN the same place is tried again later.
 * Without a client (a caller holding only a thunk), the budget is DEFAULT_BUDGET_MS and the retries
 * go through the thunk again. The error that ends the retries carries `node`: where it came from.
 */
export async function withRedirects<T>(
  client: RedisClient | undefined,
  attempt: (hop: Hop | undefined) => Promise<T>,
): Promise<T> {
  // Within a request: also its whole deadline, and each try is given up when it passes (ADR 245).
  const deadline = Math.min(Date.now() + retryBudget(client), deadlines.at());
  let hop: Hop | undefined;
  let hops = 0;
  for (let n = 1; ; n++) {
    try {
      deadlines.check();
      return await deadlines.bound(attempt(hop));
    } catch (err) {
      const redirect = redirectOf(err);
      if (!redirect) throw err;
      if (redirect.code !== 'TRYAGAIN') {
        const node = client instanceof Cluster ? nodeAt(client, redirect.address) : undefined;
        // The slot map is stale after MOVED, and will be after an ASK's migration ends.
        if (client instanceof Cluster && redirect.code === 'MOVED') client.refreshSlotsCache();
        hop = node ? { node, asking: redirect.code === 'ASK' } : undefined;
        if (hop && hops++ < MAX_HOPS && Date.now() < deadline) continue;
      }
      if (!(await backoff(n, deadline))) {
        if (hop && err instanceof Error) Object.assign(err, { node: addressOf(hop.node) });
        throw err;
      }
    }
  }
}

/** Waits before try n+1; false when that would pass, or did pass, the deadline. */
async function backoff(n: number, deadline: number): Promise<boolean> {
  const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (n - 1));
  if (Date.now() + delay > deadline) return false;
  await new Promise((resolve) => setTimeout(resolve, delay));
  // A timer that fired late (a loaded machine) must not turn the store's reason into `deadline`.
  return Date.now() < deadline;
}

function addressOf(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

/**
 * The connection to the node a redirect names (`host:port`, mapped through natMap), opened if the
 * client has none yet: a master being added owns no slot until its first one is imported, so the
 * slot map does not list it. Through the pool ioredis itself uses to follow ASK (not in its typed
 * API: when it is missing, undefined, and the caller waits and tries the slot map again).
 */
function nodeAt(client: Cluster, address: string | undefined): Redis | undefined {
  if (!address) return undefined;
  const [host, portText] = address.split(/:(?=\d+$)/);
  let node = { host, port: Number(portText) };
  const natMap = client.options.natMap;
  if (natMap && typeof natMap === 'object') {
    const mapped = (natMap as Record<string, { host: string; port: number }>)[address];
    if (mapped) node = mapped;
  }
  const known = client
    .nodes('all')
    .find((r) => r.options.host === node.host && r.options.port === node.port);
  if (known) return known;
  const pool = (client as unknown as { connectionPool?: { findOrCreate?: (n: object) => Redis } })
    .connectionPool;
  return typeof pool?.findOrCreate === 'function' ? pool.findOrCreate(node) : undefined;
}

/**
 * Sends commands to one node as one pipeline, ASKING first when the hop asks for it, and returns
 * the replies of `commands` (ASKING's dropped). A node's own pipeline follows no redirect: the
 * caller sees each reply as the node gave it.
 */
export async function onNode(hop: Hop, commands: Command[]): Promise<[Error | null, unknown][]> {
  const pipeline = hop.node.pipeline();
  if (hop.asking) pipeline.asking();
  for (const command of commands) add(pipeline, command);
  const results = await pipeline.exec();
  const replies = (results ?? []).slice(hop.asking ? 1 : 0);
  if (replies.length !== commands.length) throw new Error('pipeline returned no results');
  return replies;
}

/** Queues a prepared Command (its reply encoding kept); ioredis types pipelines as builders only. */
function add(pipeline: ChainableCommander, command: Command): void {
  (pipeline as unknown as { sendCommand(c: Command): unknown }).sendCommand(command);
}

/** One command in a pipeline of its own, on the node of its slot: its reply, or its error thrown. */
async function alone(client: RedisClient, command: Command): Promise<unknown> {
  const pipeline = client.pipeline();
  add(pipeline, command);
  const [[err, reply]] = (await pipeline.exec()) ?? [
    [new Error('pipeline returned no results'), null],
  ];
  if (err) throw err;
  return reply;
}

/**
 * Whether an empty reply of `client` may be false: a Cluster client that auto-pipelines (see
 * readAlone). Its callers confirm "none" with readAlone before they act on it.
 */
export function batchesReads(client: RedisClient): boolean {
  return client instanceof Cluster && Boolean(client.options.enableAutoPipelining);
}

/**
 * A read sent in a pipeline of its own (never in an auto-pipelined batch), its redirects followed
 * by withRedirects. Why alone: ioredis answers an ASK inside a read-only batch by sending the
 * whole batch again to the node named, with ASKING; there, the batch's other keys of the same
 * slot that have not moved yet read as nil (ADR 130). A batch of one holds only the key that
 * was redirected, so its reply is the key's own.
 */
export function readAlone(
  client: RedisClient,
  name: string,
  args: readonly ScriptArg[],
  buffers = false,
): Promise<unknown> {
  return withRedirects(client, (hop) =>
    hop
      ? commandOn(hop, name, args, buffers)
      : alone(client, new Command(name, [...args], { replyEncoding: buffers ? null : 'utf8' })),
  );
}

/** One command on a hop: its reply, or its error thrown. */
export async function commandOn(
  hop: Hop,
  name: string,
  args: readonly ScriptArg[],
  buffers = false,
): Promise<unknown> {
  const command = new Command(name, [...args], { replyEncoding: buffers ? null : 'utf8' });
  const [[err, reply]] = await onNode(hop, [command]);
  if (err) throw err;
  return reply;
}

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
  const call = (command: 'evalsha' | 'eval', head: string, hop: Hop | undefined) => {
    const argv = [head, script.numKeys, ...keys, ...args];
    if (hop) return commandOn(hop, command, argv, buffers);
    if (client instanceof Cluster && !client.options.enableAutoPipelining) {
      // Not sent as a lone command: ioredis would follow its redirects itself, sending a TRYAGAIN
      // retry to a random node (MOVED back, and so on until maxRedirections). A pipeline of one
      // returns the first redirect as it came, for withRedirects to follow on purpose.
      return alone(client, new Command(command, argv, { replyEncoding: buffers ? null : 'utf8' }));
    }
    const name: EvalCommand = buffers ? `${command}Buffer` : command;
    return commands[name](...argv);
  };
  return withRedirects(client, async (hop) => {
    try {
      return await call('evalsha', script.sha, hop);
    } catch (err) {
      if (replyCode(err) !== 'NOSCRIPT') throw err;
      return call('eval', script.lua, hop);
    }
  });
}

/**
 * Runs a write script and WAIT in one pipeline, so both use the same connection: WAIT counts
 * only the writes of the connection it runs on. ioredis pins the pipeline to the node of the
 * script's keys but does not follow MOVED/ASK/TRYAGAIN inside a pipeline that holds a write, so
 * withRedirects does: the retry goes to the node named (ASKING + script + WAIT after ASK).
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
  return withRedirects(client, async (hop) => {
    for (;;) {
      const run = useEval
        ? new Command('eval', [script.lua, script.numKeys, ...keys, ...args])
        : new Command('evalsha', [script.sha, script.numKeys, ...keys, ...args]);
      // Fitted inside the request's deadline, so WAIT answers (acknowledged or not) before it;
      // with no room left for one, the change goes alone and counts as unacknowledged (pending).
      const waitMs = deadlines.waitTimeout(timeout);
      const commands = waitMs > 0 ? [run, new Command('wait', [replicas, waitMs])] : [run];
      let results: [Error | null, unknown][];
      if (hop) {
        results = await onNode(hop, commands);
      } else {
        const pipeline = client.pipeline();
        for (const command of commands) add(pipeline, command);
        results = (await pipeline.exec()) ?? [];
      }
      if (results.length !== commands.length)
        throw new Error(`${script.name}: pipeline returned no results`);
      const [[scriptErr, reply], [waitErr, acknowledged] = [null, 0]] = results;
      if (scriptErr) {
        if (replyCode(scriptErr) === 'NOSCRIPT' && !useEval) {
          useEval = true;
          continue;
        }
        throw scriptErr;
      }
      if (waitErr) throw waitErr;
      return { reply, acknowledged: Number(acknowledged) };
    }
  });
}
