import type { CheckDefinition, StoreContext } from '../context';
import { listOf, plural } from '../context';
import { NodeFacts, role, usable } from '../facts';
import { versionAtLeast } from '../redis-info';
import { CheckOutcome, fail, pass, wait, warn } from '../types';

/** What each data node says about itself: loading, version, persistence, eviction, memory. */

function dataNodes(c: unknown): NodeFacts[] {
  return (c as StoreContext).facts.dataNodes.filter((n) => usable(n) && n.info);
}

/** How many of the data nodes could not be looked at, for the end of a line. */
function unseen(c: unknown): string {
  const all = (c as StoreContext).facts.dataNodes;
  const missing = all.filter((n) => !usable(n) || !n.info).length;
  return missing ? ` (${plural(missing, 'node')} not reachable, not checked)` : '';
}

function described(n: NodeFacts): string {
  const r = role(n);
  return r === 'unknown' ? n.label : `${n.label} (${r})`;
}

export const loadingCheck: CheckDefinition = {
  id: 'store.loading',
  summary: 'No node is still loading its data or running a full resync: "not yet", not a failure.',
  gate: 'store',
  run(c) {
    const nodes = dataNodes(c);
    const busy: string[] = [];
    for (const n of nodes) {
      const i = n.info as Record<string, string>;
      if (i.loading === '1' || i.async_loading === '1') {
        const eta = Number(i.loading_eta_seconds);
        busy.push(
          `${described(n)} is loading its data (${i.loading_loaded_perc ?? '?'}%${Number.isFinite(eta) && eta > 0 ? `, about ${eta}s left` : ''})`,
        );
      } else if (i.master_sync_in_progress === '1') {
        busy.push(`${described(n)} is receiving a full copy from its master`);
      }
    }
    const expected = 'every node serving (loading:0)';
    if (busy.length) {
      return wait(
        listOf(busy, 4),
        expected,
        'wait: a restarted node reads its AOF/RDB before it serves; set store.startupWait so start waits for it',
      );
    }
    return pass(`${plural(nodes.length, 'node')} serving${unseen(c)}`, expected);
  },
};

export const versionCheck: CheckDefinition = {
  id: 'store.version',
  summary: 'Every node runs Redis store.redis.require.minVersion (6.2.0) or newer.',
  gate: 'store',
  run(c) {
    const min = (c as StoreContext).settings.store.redis.require.minVersion;
    const nodes = dataNodes(c);
    const expected = `Redis ${min} or newer (store.redis.require.minVersion)`;
    const old = nodes.filter((n) => !versionAtLeast(n.info?.redis_version ?? '0', min));
    if (old.length) {
      return fail(
        listOf(
          old.map((n) => `${n.label} runs Redis ${n.info?.redis_version ?? 'of unknown version'}`),
        ),
        expected,
        'upgrade Redis on those nodes; Holdfast uses commands and script features of 6.2',
      );
    }
    const versions = [...new Set(nodes.map((n) => n.info?.redis_version))].join(', ');
    return pass(`Redis ${versions} on ${plural(nodes.length, 'node')}${unseen(c)}`, expected);
  },
};

export const configAccessCheck: CheckDefinition = {
  id: 'store.config-access',
  summary:
    'CONFIG GET is allowed; where it is not (managed Redis), says which checks fell back to INFO and which could not be made.',
  gate: 'store',
  run(c) {
    const nodes = dataNodes(c);
    const refused = nodes.filter((n) => !n.config);
    const expected = 'CONFIG GET allowed (read only)';
    if (refused.length) {
      return warn(
        `CONFIG GET refused on ${listOf(refused.map((n) => n.label))} (${refused[0].configError}); checked from INFO instead: AOF on/off, maxmemory, maxmemory-policy; not checked: RDB save points, appendfsync`,
        expected,
        'allow CONFIG GET for the Holdfast user (ACL: +config|get) to check everything, or confirm RDB save points and appendfsync with your Redis provider',
      );
    }
    return pass(`allowed on ${plural(nodes.length, 'node')}${unseen(c)}`, expected);
  },
};

interface Persistence {
  aof: boolean;
  fsync?: string;
  /** undefined when CONFIG was refused: INFO does not tell the save points. */
  rdb?: boolean;
  save?: string;
}

function persistenceOf(n: NodeFacts): Persistence {
  const cfg = n.config;
  const aof = cfg?.appendonly ? cfg.appendonly === 'yes' : n.info?.aof_enabled === '1';
  const save = cfg?.save;
  return {
    aof,
    fsync: cfg?.appendfsync,
    rdb: save === undefined ? undefined : save.trim() !== '',
    save,
  };
}

function describePersistence(p: Persistence): string {
  const aof = p.aof
    ? `appendonly yes${p.fsync ? ` (appendfsync ${p.fsync})` : ''}`
    : 'appendonly no';
  const rdb =
    p.rdb === undefined ? 'save points unknown' : p.rdb ? `save "${p.save}"` : 'no save points';
  return `${aof}, ${rdb}`;
}

export const persistenceCheck: CheckDefinition = {
  id: 'store.persistence',
  summary:
    'Every master and replica persists as store.redis.require.persistence demands (aof | rdb | any | none).',
  gate: 'store',
  run(c): CheckOutcome {
    const need = (c as StoreContext).settings.store.redis.require.persistence;
    const nodes = dataNodes(c);
    const expected = {
      aof: 'appendonly yes on every node (store.redis.require.persistence aof)',
      rdb: 'RDB save points on every node (store.redis.require.persistence rdb)',
      any: 'AOF or RDB snapshots on every node (store.redis.require.persistence any)',
      none: 'nothing (store.redis.require.persistence none)',
    }[need];
    const summary = () => {
      const kinds = new Map<string, string[]>();
      for (const n of nodes) {
        const d = describePersistence(persistenceOf(n));
        kinds.set(d, [...(kinds.get(d) ?? []), n.label]);
      }
      return [...kinds.entries()].map(([d, l]) => `${d} on ${listOf(l, 3)}`).join('; ');
    };
    if (need === 'none') return pass(`${summary()}${unseen(c)}`, expected);
    const bad: NodeFacts[] = [];
    const unknown: NodeFacts[] = [];
    let weakFsync: NodeFacts | undefined;
    for (const n of nodes) {
      const p = persistenceOf(n);
      const ok = need === 'aof' ? p.aof : need === 'rdb' ? p.rdb : p.aof || p.rdb;
      if (ok === false) bad.push(n);
      else if (ok === undefined) unknown.push(n);
      if (p.aof && p.fsync === 'no' && need !== 'rdb') weakFsync ??= n;
    }
    const fix =
      need === 'rdb'
        ? 'set save points (e.g. `save 3600 1 300 100 60 10000`) in redis.conf and with CONFIG SET save on every node'
        : 'set appendonly yes in redis.conf and with CONFIG SET appendonly yes on every node (replicas too: a promoted replica must keep the data)';
    if (bad.length) {
      return fail(
        listOf(
          bad.map((n) => `${described(n)}: ${describePersistence(persistenceOf(n))}`),
          4,
        ),
        expected,
        `${fix}; or, if losing every session on a restart is acceptable, set store.redis.require.persistence to none`,
      );
    }
    if (unknown.length) {
      return warn(
        `${listOf(
          unknown.map((n) => `${n.label}: ${describePersistence(persistenceOf(n))}`),
          4,
        )} (CONFIG GET refused)`,
        expected,
        'confirm the save points with your Redis provider, or allow CONFIG GET (see store.config-access)',
      );
    }
    if (weakFsync) {
      return warn(
        `${weakFsync.label}: appendfsync no (the OS decides when the AOF reaches the disk)`,
        `${expected}, with appendfsync everysec or always`,
        'CONFIG SET appendfsync everysec (and in redis.conf): at most one second of sessions lost on a crash',
      );
    }
    return pass(`${summary()}${unseen(c)}`, expected);
  },
};

export const persistenceErrorsCheck: CheckDefinition = {
  id: 'store.persistence.errors',
  summary: 'The last AOF write, AOF rewrite and RDB save of every node succeeded.',
  gate: 'store',
  run(c) {
    const nodes = dataNodes(c);
    const problems: string[] = [];
    for (const n of nodes) {
      const i = n.info as Record<string, string>;
      const failed = [
        ['rdb_last_bgsave_status', 'the last RDB save failed'],
        ['aof_last_write_status', 'the last AOF write failed'],
        ['aof_last_bgrewrite_status', 'the last AOF rewrite failed'],
      ].filter(([field]) => i[field] !== undefined && i[field] !== 'ok');
      for (const [field, what] of failed)
        problems.push(`${described(n)}: ${field}:${i[field]} (${what})`);
    }
    const expected =
      'rdb_last_bgsave_status, aof_last_write_status and aof_last_bgrewrite_status ok';
    if (problems.length) {
      return fail(
        listOf(problems, 4),
        expected,
        "read the node's log (disk full? directory gone or not writable?), fix the cause, then BGSAVE or BGREWRITEAOF to clear it; until then Redis refuses writes (stop-writes-on-bgsave-error)",
      );
    }
    return pass(`no failed save on ${plural(nodes.length, 'node')}${unseen(c)}`, expected);
  },
};

export const evictionCheck: CheckDefinition = {
  id: 'store.eviction',
  summary:
    'maxmemory-policy is one of store.redis.require.evictionPolicies (never allkeys-*: it would evict sessions).',
  gate: 'store',
  run(c) {
    const ctx = c as StoreContext;
    const allowed = ctx.settings.store.redis.require.evictionPolicies;
    const nodes = dataNodes(c);
    const policy = (n: NodeFacts) =>
      n.config?.['maxmemory-policy'] ?? n.info?.maxmemory_policy ?? 'unknown';
    const bad = nodes.filter((n) => !allowed.includes(policy(n)));
    const expected = `one of ${allowed.join(', ')} (store.redis.require.evictionPolicies)`;
    if (bad.length) {
      const observed = listOf(bad.map((n) => `${n.label}: maxmemory-policy ${policy(n)}`));
      const hint =
        'CONFIG SET maxmemory-policy noeviction (and in redis.conf) on every node: an evicting policy deletes live sessions when memory runs short, logging users out';
      return ctx.settings.env === 'production'
        ? fail(observed, expected, hint)
        : warn(observed, expected, hint);
    }
    const policies = [...new Set(nodes.map(policy))].join(', ');
    return pass(
      `maxmemory-policy ${policies} on ${plural(nodes.length, 'node')}${unseen(c)}`,
      expected,
    );
  },
};

/** Above this share of maxmemory a node warns; at maxmemory it refuses writes (noeviction). */
export const MEMORY_WARN_RATIO = 0.9;

export const memoryCheck: CheckDefinition = {
  id: 'store.memory',
  summary: 'Memory use is below 90% of maxmemory on every node (at 100% writes fail).',
  gate: 'store',
  run(c) {
    const nodes = dataNodes(c);
    const full: string[] = [];
    const close: string[] = [];
    for (const n of nodes) {
      const max = Number(n.config?.maxmemory ?? n.info?.maxmemory ?? 0);
      const used = Number(n.info?.used_memory ?? 0);
      if (!max) continue;
      const text = `${n.label} uses ${mb(used)} of maxmemory ${mb(max)} (${Math.round((used / max) * 100)}%)`;
      if (used >= max) full.push(text);
      else if (used >= max * MEMORY_WARN_RATIO) close.push(text);
    }
    const expected = `used_memory below ${MEMORY_WARN_RATIO * 100}% of maxmemory`;
    const hint =
      'raise maxmemory (CONFIG SET maxmemory, and in redis.conf), add masters, or find what else fills the store (redis-cli --bigkeys)';
    if (full.length)
      return fail(listOf(full), expected, `${hint}; at maxmemory new sessions cannot be written`);
    if (close.length) return warn(listOf(close), expected, hint);
    const limited = nodes.filter(
      (n) => Number(n.config?.maxmemory ?? n.info?.maxmemory ?? 0) > 0,
    ).length;
    return pass(
      limited
        ? `below ${MEMORY_WARN_RATIO * 100}% on ${plural(limited, 'node')} with a limit${nodes.length > limited ? `, ${nodes.length - limited} without` : ''}`
        : `no maxmemory limit on ${plural(nodes.length, 'node')}`,
      expected,
    );
  },
};

function mb(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(1)} MB`
    : `${Math.round(bytes / 1024)} KB`;
}
