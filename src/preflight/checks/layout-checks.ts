import { envVarFor } from '../../config';
import { KeyLayout, LIVE_BUCKETS, USER_BUCKETS } from '../../store/keys';
import {
  LAYOUT_FORMAT,
  READABLE_LAYOUTS,
  recordMeta,
  sessionFormatOf,
} from '../../store/redis/meta';
import { loadScripts } from '../../store/redis/scripts';
import { isUnavailable } from '../../store/redis/store-errors';
import type { CheckDefinition, StoreContext } from '../context';
import { listOf, plural } from '../context';
import { mapNat, NodeFacts, role, usable } from '../facts';
import { formatEndpoint } from '../probe';
import { slotCount } from '../redis-info';
import { CheckOutcome, fail, pass, skip, warn } from '../types';

/**
 * The store's own layout: its Lua scripts load, and the recorded shard count, index bucket counts
 * and format match.
 */

/** Masters that serve data: slot owners in a cluster, else the master the engine writes to. */
export function writableMasters(ctx: StoreContext): NodeFacts[] {
  const r = ctx.settings.store.redis;
  const nodes = ctx.facts.dataNodes.filter((n) => usable(n) && role(n) === 'master');
  if (r.mode === 'cluster' && ctx.facts.cluster) {
    const serving = new Set(
      ctx.facts.cluster.view
        .filter((m) => m.master && slotCount(m) > 0)
        .map((m) => formatEndpoint(mapNat(r, m))),
    );
    return nodes.filter((n) => serving.has(n.label));
  }
  if (r.mode === 'sentinel')
    return nodes.filter((n) => n.label === ctx.facts.sentinel?.masterLabel);
  return nodes.slice(0, 1);
}

/** The master holding `{prefix}:meta`, or why it cannot be found. */
export async function metaOwner(ctx: StoreContext): Promise<NodeFacts | string> {
  const r = ctx.settings.store.redis;
  const key = new KeyLayout(r.keyPrefix, r.shards).meta();
  const masters = writableMasters(ctx);
  if (masters.length === 0) return 'no master answered';
  if (r.mode !== 'cluster') return masters[0];
  const view = ctx.facts.cluster?.view;
  if (!view) return 'no cluster view (see store.mode)';
  let slot: number;
  try {
    slot = Number(await masters[0].probe.call('CLUSTER', 'KEYSLOT', key));
  } catch (err) {
    return `CLUSTER KEYSLOT failed: ${(err as Error).message.split('\n')[0]}`;
  }
  const owner = view.find((m) => m.master && m.slots.some(([a, b]) => slot >= a && slot <= b));
  if (!owner) return `slot ${slot} of ${key} has no master (see cluster.slots)`;
  const label = formatEndpoint(mapNat(r, owner));
  return (
    masters.find((m) => m.label === label) ??
    `the master of slot ${slot} (${label}) does not answer`
  );
}

export const scriptsCheck: CheckDefinition = {
  id: 'store.scripts',
  summary: "The store's Lua scripts are in this build and every master accepts them (SCRIPT LOAD).",
  gate: 'store',
  async run(c): Promise<CheckOutcome> {
    const ctx = c as StoreContext;
    let scripts;
    try {
      scripts = Object.values(loadScripts());
    } catch (err) {
      return fail(
        (err as Error).message,
        "every Lua script of the store in Holdfast's build",
        'rebuild or reinstall Holdfast: `npm run build` copies src/store/lua next to the compiled code',
      );
    }
    const masters = writableMasters(ctx);
    if (masters.length === 0) return skip('no master answered');
    if (masters.some(loading))
      return skip('a master is still loading its data (see store.loading)');
    const expected = `${plural(scripts.length, 'script')} loaded by every master`;
    const problems: string[] = [];
    let firstError = '';
    for (const m of masters) {
      for (const s of scripts) {
        try {
          const sha = String(await m.probe.call('SCRIPT', 'LOAD', s.lua));
          if (sha !== s.sha)
            problems.push(`${m.label}: ${s.name} loaded as ${sha}, expected ${s.sha}`);
        } catch (err) {
          const message = (err as Error).message.split('\n')[0];
          problems.push(`${m.label}: ${s.name}: ${message}`);
          firstError ||= message;
          break; // one error per master says enough
        }
      }
    }
    if (problems.length) {
      const r = ctx.settings.store.redis;
      const hint = /^NOPERM/.test(firstError)
        ? `grant ${r.username ? `ACL user ${r.username}` : 'the Holdfast user'} the scripting commands: ACL SETUSER <user> +@scripting`
        : /unknown command/i.test(firstError)
          ? 'the server has scripting disabled or renamed (rename-command EVAL/SCRIPT): Holdfast needs EVAL, EVALSHA and SCRIPT LOAD'
          : 'check the server log; the scripts need Redis 6.2 or newer (see store.version)';
      return fail(listOf(problems, 3), expected, hint);
    }
    return pass(
      `${plural(scripts.length, 'script')} loaded on ${plural(masters.length, 'master')}`,
      expected,
    );
  },
};

export const layoutCheck: CheckDefinition = {
  id: 'store.layout',
  summary:
    'store.redis.shards, the index bucket counts and the record format match what was recorded in {prefix}:meta at the first start.',
  gate: 'store',
  async run(c): Promise<CheckOutcome> {
    const ctx = c as StoreContext;
    const r = ctx.settings.store.redis;
    const keys = new KeyLayout(r.keyPrefix, r.shards);
    if (writableMasters(ctx).some(loading)) {
      return skip('a master is still loading its data (see store.loading)');
    }
    const owner = await metaOwner(ctx);
    if (typeof owner === 'string') return skip(owner);
    const buckets = `buckets ${LIVE_BUCKETS} live / ${USER_BUCKETS} user`;
    const expected = `shards ${r.shards}, format "${LAYOUT_FORMAT}", ${buckets} as recorded in ${keys.meta()}`;
    let recorded: Record<string, string>;
    try {
      recorded = hashReply(await owner.probe.call('HGETALL', keys.meta()));
    } catch (err) {
      const observed = `HGETALL ${keys.meta()} on ${owner.label}: ${(err as Error).message.split('\n')[0]}`;
      // CLUSTERDOWN, LOADING, TRYAGAIN...: the store cannot answer now, which other lines explain.
      if (isUnavailable(err)) {
        return fail(
          observed,
          expected,
          'the store cannot serve the key now: see the cluster and reachability lines',
          {
            transient: true,
          },
        );
      }
      return fail(
        observed,
        expected,
        `allow the Holdfast user to read and write keys under ${r.keyPrefix} (ACL ~{${r.keyPrefix}}* ~{${r.keyPrefix}:*})`,
      );
    }
    if (Object.keys(recorded).length === 0) {
      const keysHeld = await countKeys(writableMasters(ctx));
      if (keysHeld > 0) {
        return warn(
          `no layout recorded for keyPrefix "${r.keyPrefix}" (${keys.meta()} is absent) although the store holds ${keysHeld} keys`,
          expected,
          `if store.redis.keyPrefix (${envVarFor('store.redis.keyPrefix')}) was changed, set it back: sessions stored under the old prefix are invisible under the new one; if the store is shared with other data, this is expected`,
        );
      }
      return pass(
        `nothing recorded yet (first start): ${keys.meta()} will record shards ${r.shards}, ${buckets}`,
        expected,
      );
    }
    const problems: string[] = [];
    const shards = Number(recorded.shards);
    // After `holdfast store reshard` (ADR 260) nodes may keep the count it grew from a while:
    // the engine reads the grown count from meta.
    if (shards !== r.shards && Number(recorded.grownFrom) !== r.shards) {
      return fail(
        `${keys.meta()} records shards ${recorded.shards}; store.redis.shards is ${r.shards}`,
        `store.redis.shards ${recorded.shards}, as recorded at the first start`,
        `set store.redis.shards (${envVarFor('store.redis.shards')}) back to ${recorded.shards}: another count moves every user to another shard and strands their sessions; to grow it, run holdfast store reshard --shards N (docs/operations.md)`,
      );
    }
    if (recorded.keyPrefix !== undefined && recorded.keyPrefix !== r.keyPrefix) {
      problems.push(`keyPrefix "${recorded.keyPrefix}"`);
    }
    if (recorded.format !== undefined && sessionFormatOf(recorded.format) === null) {
      return fail(
        `${keys.meta()} records format "${recorded.format}"`,
        `format ${READABLE_LAYOUTS.map((f) => `"${f}"`).join(' or ')} (what this version of Holdfast reads and writes)`,
        'run the Holdfast version that wrote these records, or start a new deployment under another store.redis.keyPrefix (there is no in-place migration, docs/operations.md); never mix versions with different record formats',
      );
    }
    // Absent counts (a meta hash edited by hand) are recorded by the next start, like keyPrefix.
    const mismatched = (
      [
        ['liveBuckets', LIVE_BUCKETS],
        ['userBuckets', USER_BUCKETS],
      ] as const
    ).filter(
      ([field, built]) => recorded[field] !== undefined && Number(recorded[field]) !== built,
    );
    if (mismatched.length) {
      return fail(
        `${keys.meta()} records ${mismatched.map(([field]) => `${field} ${recorded[field]}`).join(', ')}; this version of Holdfast uses ${mismatched.map(([field, built]) => `${field} ${built}`).join(', ')}`,
        `${buckets} (the index buckets of this version of Holdfast), as recorded at the first start`,
        'run the Holdfast version that wrote this store, or start a new deployment under another store.redis.keyPrefix: with other bucket counts sessions are looked up in indexes they are not in; never mix versions with different bucket counts',
      );
    }
    if (problems.length) {
      return fail(
        `${keys.meta()} records ${problems.join(', ')}`,
        expected,
        `the meta hash was edited by hand: restore it with HSET ${keys.meta()} keyPrefix ${r.keyPrefix}`,
      );
    }
    const recordedBuckets =
      recorded.liveBuckets !== undefined && recorded.userBuckets !== undefined
        ? `buckets ${recorded.liveBuckets} live / ${recorded.userBuckets} user`
        : `no bucket counts (the next start records ${LIVE_BUCKETS} live / ${USER_BUCKETS} user)`;
    // An older readable format is written on until `holdfast store upgrade-format` (ADR 265).
    const upgrade =
      recorded.format !== undefined && recorded.format !== LAYOUT_FORMAT
        ? ` (holdfast store upgrade-format moves it to "${LAYOUT_FORMAT}" once every node runs this version)`
        : '';
    return pass(
      `${keys.meta()} records shards ${shards}, format "${recorded.format}"${upgrade}, ${recordedBuckets}`,
      expected,
    );
  },
};

/** Records the layout where none is recorded yet (`holdfast start`, after every check passed). */
export async function recordLayout(ctx: StoreContext): Promise<void> {
  const owner = await metaOwner(ctx);
  if (typeof owner === 'string' || !owner.probe.redis)
    throw new Error(
      `cannot record the store layout: ${typeof owner === 'string' ? owner : 'not connected'}`,
    );
  const r = ctx.settings.store.redis;
  await recordMeta(owner.probe.redis, new KeyLayout(r.keyPrefix, r.shards));
}

function loading(n: NodeFacts): boolean {
  return n.info?.loading === '1' || n.info?.async_loading === '1';
}

function hashReply(reply: unknown): Record<string, string> {
  if (Array.isArray(reply)) {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
    return out;
  }
  return reply && typeof reply === 'object' ? (reply as Record<string, string>) : {};
}

async function countKeys(masters: NodeFacts[]): Promise<number> {
  let total = 0;
  for (const m of masters) {
    try {
      total += Number(await m.probe.call('DBSIZE'));
    } catch {
      // DBSIZE refused: the warning just cannot be given
    }
  }
  return total;
}
