import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import type { RedisClient } from './connection';
import { hashSlot } from './hash-slot';
import { LUA_DIR, loadScriptDir } from './scripts';
import type { LuaScript } from './scripts';
import { replyCode } from './store-errors';
import { causeOf } from './unavailable';

/** Read with redirects followed, one key at a time: the path every key can take. */
export type ReadOne = (key: string) => Promise<string | null>;

let script: LuaScript | undefined;

/** The counters script (src/store/lua/counters-0.lua), read once. Not among the engine's scripts:
 * it needs Redis 7.0, and a store without it still counts, one GET per shard. */
function countersScript(): LuaScript {
  script ??= loadScriptDir(LUA_DIR, ['counters'] as const).counters;
  return script;
}

/**
 * The values of many shards' counter keys (ADR 250). One server: one MGET. A cluster: one call of
 * counters-0.lua per master, over the keys its slot map says that master serves, instead of one GET
 * per shard: 3 commands for 256 shards on 3 masters, where the client's cost per command, not
 * Redis, was most of a count's time. A master whose call fails (a stale slot map, a slot being
 * migrated, a Redis before 7.0, a connection error) has its keys read by `one`, which follows
 * redirects: the answer is the same either way, only slower.
 */
export async function readCounters(
  client: RedisClient,
  keys: readonly string[],
  one: ReadOne,
): Promise<Array<string | null>> {
  if (!(client instanceof Cluster)) {
    return (await client.mget(...keys)) as Array<string | null>;
  }
  const values: Array<string | null> = new Array(keys.length).fill(null);
  const byNode = groupByMaster(client, keys);
  await Promise.all(
    [...byNode].map(async ([node, indexes]) => {
      const group = indexes.map((i) => keys[i]);
      const read = node ? await onMaster(node, group) : undefined;
      const got = read ?? (await Promise.all(group.map(one)));
      indexes.forEach((i, n) => (values[i] = got[n]));
    }),
  );
  return values;
}

/** Key indexes per master by the client's slot map; a slot it cannot place goes under null. */
function groupByMaster(client: Cluster, keys: readonly string[]): Map<Redis | null, number[]> {
  const masters = new Map<string, Redis>();
  for (const node of client.nodes('master'))
    masters.set(`${node.options.host}:${node.options.port}`, node);
  const groups = new Map<Redis | null, number[]>();
  keys.forEach((key, i) => {
    const owner = client.slots[hashSlot(key)]?.[0];
    const node = (owner && masters.get(owner)) || null;
    const group = groups.get(node);
    if (group) group.push(i);
    else groups.set(node, [i]);
  });
  return groups;
}

/**
 * The script's answer on one master, or undefined when it failed there (see readCounters). A
 * timeout is thrown instead: the per-key path would ask the same frozen master again and wait a
 * second commandTimeout before the count fails.
 */
async function onMaster(node: Redis, keys: string[]): Promise<Array<string | null> | undefined> {
  const s = countersScript();
  try {
    let reply: unknown;
    try {
      reply = await node.evalsha(s.sha, 0, ...keys);
    } catch (err) {
      if (replyCode(err) !== 'NOSCRIPT') throw err;
      reply = await node.eval(s.lua, 0, ...keys);
    }
    if (!Array.isArray(reply) || reply.length !== keys.length) return undefined;
    return reply.map((v) => (v === null || v === undefined ? null : String(v)));
  } catch (err) {
    if (causeOf(err) === 'timeout') throw err;
    return undefined;
  }
}
