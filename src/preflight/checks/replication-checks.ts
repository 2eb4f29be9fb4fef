import { envVarFor } from '../../config';
import type { CheckDefinition, StoreContext } from '../context';
import { listOf, plural } from '../context';
import { mapNat, NodeFacts, role, usable } from '../facts';
import { formatEndpoint } from '../probe';
import { isFailing, parseReplicaLines, slotCount } from '../redis-info';
import { CheckOutcome, fail, pass, skip, warn } from '../types';

/** Cluster health and replication: slots, failing nodes, replicas per master, durability. */

const SLOTS = 16384;

function clusterGate(c: unknown): CheckOutcome | StoreContext {
  const ctx = c as StoreContext;
  const mode = ctx.settings.store.redis.mode;
  if (mode !== 'cluster') return skip(`store.redis.mode is ${mode}`);
  if (!ctx.facts.cluster) return skip('no node answered as a cluster node (see store.mode)');
  return ctx;
}

function isOutcome(x: CheckOutcome | StoreContext): x is CheckOutcome {
  return 'status' in x;
}

export const clusterStateCheck: CheckDefinition = {
  id: 'cluster.state',
  summary: 'Every reachable cluster node reports cluster_state:ok.',
  gate: 'store',
  run(c) {
    const ctx = clusterGate(c);
    if (isOutcome(ctx)) return ctx;
    const nodes = ctx.facts.dataNodes.filter((n) => usable(n) && n.clusterInfo);
    const bad = nodes.filter((n) => n.clusterInfo?.cluster_state !== 'ok');
    const expected = 'cluster_state:ok on every node';
    if (bad.length) {
      return fail(
        listOf(bad.map((n) => `${n.label} cluster_state:${n.clusterInfo?.cluster_state ?? '?'}`)),
        expected,
        'a slot has no live master or the node is cut off from the majority: bring the failed nodes back (see cluster.nodes) or assign the missing slots (see cluster.slots)',
        { transient: true },
      );
    }
    return pass(`cluster_state:ok on ${plural(nodes.length, 'node')}`, expected);
  },
};

export const clusterSlotsCheck: CheckDefinition = {
  id: 'cluster.slots',
  summary: 'All 16384 hash slots are assigned to masters that are not failing.',
  gate: 'store',
  run(c) {
    const ctx = clusterGate(c);
    if (isOutcome(ctx)) return ctx;
    const { view, from } = ctx.facts.cluster as NonNullable<StoreContext['facts']['cluster']>;
    const masters = view.filter((n) => n.master);
    const assigned = masters.reduce((sum, n) => sum + slotCount(n), 0);
    const onFailing = masters.filter((n) => isFailing(n) && slotCount(n) > 0);
    const expected = `all ${SLOTS} slots assigned to live masters`;
    if (assigned < SLOTS) {
      return fail(
        `${SLOTS - assigned} of ${SLOTS} slots have no master (as ${from} sees the cluster)`,
        expected,
        'assign them: redis-cli --cluster fix <host:port>, then redis-cli --cluster check <host:port>',
      );
    }
    if (onFailing.length) {
      const n = onFailing.reduce((sum, m) => sum + slotCount(m), 0);
      return fail(
        `${n} slots are served by failing masters: ${listOf(onFailing.map((m) => `${formatEndpoint(m)} (${m.flags.join(',')})`))}`,
        expected,
        'restart the failed masters, or let their replicas take over (cluster-node-timeout); a master without a replica loses its slots until it returns',
        { transient: true },
      );
    }
    return pass(
      `${SLOTS} of ${SLOTS} slots on ${plural(masters.filter((m) => slotCount(m) > 0).length, 'live master')}`,
      expected,
    );
  },
};

export const clusterNodesCheck: CheckDefinition = {
  id: 'cluster.nodes',
  summary: 'No cluster node is flagged fail or pfail, and every member answers.',
  gate: 'store',
  run(c) {
    const ctx = clusterGate(c);
    if (isOutcome(ctx)) return ctx;
    const { view } = ctx.facts.cluster as NonNullable<StoreContext['facts']['cluster']>;
    const flagged = view.filter(isFailing);
    const flaggedLabels = new Set(
      flagged.map((n) => formatEndpoint(mapNat(ctx.settings.store.redis, n))),
    );
    const silent = ctx.facts.dataNodes.filter(
      (n) => n.probe.connect !== 'ok' && !flaggedLabels.has(n.label),
    );
    const expected = 'every cluster node up (no fail / fail? flags) and answering';
    const problems = [
      ...flagged.map(
        (n) =>
          `${formatEndpoint(n)} ${n.master ? 'master' : 'replica'} flagged ${n.flags.filter((f) => f !== 'master' && f !== 'slave' && f !== 'myself').join(',')}`,
      ),
      ...silent.map((n) => `${n.label} does not answer (${n.probe.connectDetail})`),
    ];
    if (problems.length) {
      return fail(
        listOf(problems, 4),
        expected,
        'restart the failed node; if it is gone for good, remove it: redis-cli --cluster del-node <host:port> <node-id> (or CLUSTER FORGET on every node)',
        { transient: true },
      );
    }
    const serving = view.filter((n) => n.master && slotCount(n) > 0).length;
    const replicas = view.filter((n) => !n.master).length;
    const idle = view.length - serving - replicas;
    return pass(
      `${plural(view.length, 'node')} (${serving} masters, ${replicas} replicas${idle ? `, ${idle} masters without slots` : ''}), none failing`,
      expected,
    );
  },
};

export interface MasterReplicas {
  readonly label: string;
  /** Replicas the master has (listed or connected). */
  readonly present: number;
  /** Of those, linked and in sync (state=online, master_link_status:up). */
  readonly online: number;
}

/**
 * Replicas per master, as each master itself reports them (INFO replication: connected replicas
 * and which are online): authoritative, where one node's CLUSTER NODES view can lag behind by a
 * gossip round. A cluster master that cannot be asked is counted from the cluster view.
 */
export function replicaStats(ctx: StoreContext): MasterReplicas[] {
  const r = ctx.settings.store.redis;
  const cluster = ctx.facts.cluster;
  const fromInfo = (label: string, info: Record<string, string>): MasterReplicas => {
    const lines = parseReplicaLines(info);
    return {
      label,
      present: lines.length,
      online: lines.filter((l) => l.state === 'online').length,
    };
  };
  if (r.mode === 'cluster' && cluster) {
    const byLabel = new Map(ctx.facts.dataNodes.map((n) => [n.label, n]));
    return cluster.view
      .filter((m) => m.master && slotCount(m) > 0 && !isFailing(m))
      .map((m) => {
        const label = formatEndpoint(mapNat(r, m));
        const info = byLabel.get(label)?.info;
        if (info && role({ info } as NodeFacts) === 'master') return fromInfo(label, info);
        const replicas = cluster.view.filter((n) => !n.master && n.masterId === m.id);
        const online = replicas.filter((n) => !isFailing(n) && n.linkState === 'connected');
        return { label, present: replicas.length, online: online.length };
      });
  }
  return ctx.facts.dataNodes
    .filter(
      (n) =>
        usable(n) &&
        role(n) === 'master' &&
        (r.mode !== 'sentinel' || n.label === ctx.facts.sentinel?.masterLabel),
    )
    .map((m) => fromInfo(m.label, m.info ?? {}));
}

function replicasOutcome(
  stats: MasterReplicas[],
  required: number,
  expected: string,
  consequence: string,
  hint: string,
): CheckOutcome {
  if (stats.length === 0) return skip('no master answered');
  const short = stats.filter((s) => s.online < required);
  if (short.length) {
    const observed = listOf(
      short.map(
        (s) =>
          `${s.label} has ${plural(s.online, 'online replica')}${s.present > s.online ? ` (${s.present - s.online} linking or syncing)` : ''}`,
      ),
      4,
    );
    // Replicas that exist but are still linking will be there in a moment; missing ones will not.
    const transient = short.every((s) => s.present >= required);
    return fail(
      `${observed}${consequence}`,
      expected,
      transient
        ? 'wait for the replicas to finish their sync (INFO replication on the master shows state=online)'
        : hint,
      { transient },
    );
  }
  const least = Math.min(...stats.map((s) => s.online));
  return pass(
    `${plural(stats.length, 'master')}, each with at least ${plural(least, 'online replica')}`,
    expected,
  );
}

export const replicasCheck: CheckDefinition = {
  id: 'store.replicas',
  summary:
    'Every master has at least store.redis.require.replicasPerMaster online replicas with their link up.',
  gate: 'store',
  run(c) {
    const ctx = c as StoreContext;
    const required = ctx.settings.store.redis.require.replicasPerMaster;
    return replicasOutcome(
      replicaStats(ctx),
      required,
      `at least ${plural(required, 'online replica')} per master (store.redis.require.replicasPerMaster)`,
      '',
      `add replicas (cluster: redis-cli --cluster add-node <new> <existing> --cluster-slave; otherwise REPLICAOF on the new server), or lower store.redis.require.replicasPerMaster (${envVarFor('store.redis.require.replicasPerMaster')})`,
    );
  },
};

export const durabilityCheck: CheckDefinition = {
  id: 'store.durability',
  summary:
    'When writes wait for replica acknowledgements (store.redis.durability.replicas), every master has that many online replicas.',
  gate: 'store',
  run(c) {
    const ctx = c as StoreContext;
    const wanted = ctx.settings.store.redis.durability.replicas;
    if (wanted === 0)
      return skip('store.redis.durability.replicas is 0: writes do not wait for replicas', 'n/a');
    return replicasOutcome(
      replicaStats(ctx),
      wanted,
      `at least ${plural(wanted, 'online replica')} per master (store.redis.durability.replicas)`,
      ': every write would wait for acknowledgements that cannot come, and fail',
      `add replicas, or lower store.redis.durability.replicas (${envVarFor('store.redis.durability.replicas')})`,
    );
  },
};

/**
 * Replica reads (ADR 205) keep a dead master's sessions readable only if the cluster keeps
 * answering while a slot has no master: with the Redis default every node, replicas included,
 * refuses every command (CLUSTERDOWN) from the failure until the promotion. A warning: the store
 * loses nothing, reads answer 503 for a second or two.
 */
export const coverageCheck: CheckDefinition = {
  id: 'cluster.coverage',
  summary:
    'With replica reads on (store.redis.durability.replicas above 0), every master keeps answering while another has failed (cluster-require-full-coverage no).',
  gate: 'store',
  run(c) {
    const ctx = clusterGate(c);
    if (isOutcome(ctx)) return ctx;
    if (ctx.settings.store.redis.durability.replicas === 0)
      return skip('store.redis.durability.replicas is 0: reads never go to replicas', 'n/a');
    const expected = 'cluster-require-full-coverage no on every master';
    const masters = ctx.facts.dataNodes.filter((n) => usable(n) && role(n) === 'master');
    const known = masters.filter((n) => n.config?.['cluster-require-full-coverage'] !== undefined);
    if (!known.length) return skip('CONFIG GET is refused on every master', expected);
    const full = known.filter((n) => n.config?.['cluster-require-full-coverage'] === 'yes');
    if (full.length) {
      return warn(
        `cluster-require-full-coverage yes on ${listOf(full.map((n) => n.label))}`,
        expected,
        "set it to no (redis.conf, or CONFIG SET cluster-require-full-coverage no then CONFIG REWRITE on every node): with yes, every read answers 503 from a master's failure until its replica takes over, the other masters' sessions included",
      );
    }
    return pass(`cluster-require-full-coverage no on ${plural(known.length, 'master')}`, expected);
  },
};
