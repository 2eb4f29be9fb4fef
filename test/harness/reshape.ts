/**
 * Changing a running LocalCluster the way an operator does, with redis-cli: add a master (and a
 * replica for it), move slots to it, drain a master (weight 0), remove a node, and shut the whole
 * cluster down and start it again from its AOF files. Shared by the store integration tests
 * (add-master, drain-master) and the fault suite (test/e2e/faults).
 */
import { LocalCluster, REDIS_CLI, runRedisCli } from './cluster';
import { replicationArgs } from './node-common';
import { startRedis, type RedisProcess } from './redis-process';
import type { Endpoint } from './types';
import { notYet, waitUntil } from './wait';

const address = (e: Endpoint): string => `${e.host}:${e.port}`;

/** redis-cli --cluster <args>, its output kept in the error when it fails. */
export function clusterCli(args: string[], timeoutMs = 60_000): Promise<string> {
  return runRedisCli(['--cluster', ...args], timeoutMs);
}

export { REDIS_CLI };

/** CLUSTER MYID of a node. */
export async function nodeId(node: RedisProcess): Promise<string> {
  return String(await node.command(['CLUSTER', 'MYID']));
}

/** Slots the node with `id` serves according to `node`'s CLUSTER NODES. */
export async function slotsOwned(node: RedisProcess, id: string): Promise<number> {
  const line = String(await node.command(['CLUSTER', 'NODES']))
    .split('\n')
    .find((l) => l.startsWith(id));
  return (line ?? '')
    .trim()
    .split(' ')
    .slice(8)
    .filter((r) => !r.startsWith('['))
    .reduce((n, r) => {
      const [a, b] = r.split('-').map(Number);
      return n + (b === undefined ? 1 : b - a + 1);
    }, 0);
}

/** A live seed of the cluster, host:port, for redis-cli. */
async function seed(cluster: LocalCluster): Promise<string> {
  const live = await cluster.liveNodes();
  if (live.length === 0) throw new Error('no cluster node answers');
  return address(live[0]);
}

export interface AddNodeOptions {
  /** Join as a replica of this master id (add-node --cluster-slave). */
  replicaOf?: string;
  /** cluster-node-timeout of the new node (default 2000, as startCluster). */
  nodeTimeoutMs?: number;
}

/**
 * Starts an empty cluster-enabled server, joins it with `redis-cli --cluster add-node`, and waits
 * until every node knows it and it sees the cluster as ok (it refuses imports before). The node
 * is added to `cluster.nodes`, so stop() reaps it.
 */
export async function addNode(
  cluster: LocalCluster,
  opts: AddNodeOptions = {},
): Promise<RedisProcess> {
  const { args } = replicationArgs([]);
  const node = await startRedis({
    clusterPorts: true,
    extraArgs: [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(opts.nodeTimeoutMs ?? 2000),
      ...args,
    ],
  });
  cluster.nodes.push(node);
  const existing = await seed(cluster);
  await clusterCli(
    [
      'add-node',
      address(node),
      existing,
      ...(opts.replicaOf ? ['--cluster-slave', '--cluster-master-id', opts.replicaOf] : []),
    ],
    20_000,
  );
  await waitUntil(
    `every node knows ${node.port}`,
    async () => {
      for (const other of await cluster.liveNodes()) {
        const text = String(await other.command(['CLUSTER', 'NODES']));
        const line = text.split('\n').find((l) => l.includes(`:${node.port}@`));
        if (!line || /handshake|noaddr/.test(line))
          return notYet(`node ${other.port} does not know ${node.port} yet`);
      }
      const info = String(await node.command(['CLUSTER', 'INFO']));
      return info.includes('cluster_state:ok') ? true : notYet('new node: cluster_state not ok');
    },
    { timeoutMs: 15_000 },
  );
  if (opts.replicaOf) {
    await waitUntil(
      `${node.port} linked to its master`,
      async () => {
        const info = await node.info('replication');
        return info.master_link_status === 'up' ? true : notYet(`link ${info.master_link_status}`);
      },
      { timeoutMs: 15_000 },
    );
  }
  return node;
}

/** Waits until every live node maps at least `min` (and the same number of) slots to `id`. */
export async function waitSlotsAgreed(cluster: LocalCluster, id: string, min: number) {
  return waitUntil(
    `every node maps the same >= ${min} slots to ${id}`,
    async () => {
      const counts = new Set<number>();
      for (const node of await cluster.liveNodes()) {
        const owned = await slotsOwned(node, id);
        if (owned < min) return notYet(`node ${node.port} maps ${owned} slots to it`);
        counts.add(owned);
      }
      return counts.size === 1 ? [...counts][0] : notYet(`nodes disagree: ${[...counts].join()}`);
    },
    { timeoutMs: 15_000 },
  );
}

/** `redis-cli --cluster reshard`: `slots` slots from every master to `toId`. */
export async function moveSlotsTo(cluster: LocalCluster, toId: string, slots: number) {
  const out = await clusterCli([
    'reshard',
    await seed(cluster),
    '--cluster-from',
    'all',
    '--cluster-to',
    toId,
    '--cluster-slots',
    String(slots),
    '--cluster-yes',
  ]);
  // redis-cli takes a share from each master, rounded: a slot or two fewer in all.
  await waitSlotsAgreed(cluster, toId, slots - 10);
  return out;
}

/**
 * `redis-cli --cluster rebalance` with the empty masters taking part; `weights` maps node ids to
 * their weight (0 drains a master: every slot moves off it). Returns redis-cli's output.
 */
export async function rebalance(
  cluster: LocalCluster,
  weights: Record<string, number> = {},
  timeoutMs = 120_000,
): Promise<string> {
  const w = Object.entries(weights).map(([id, weight]) => `${id}=${weight}`);
  return clusterCli(
    [
      'rebalance',
      await seed(cluster),
      '--cluster-use-empty-masters',
      ...(w.length > 0 ? ['--cluster-weight', ...w] : []),
    ],
    timeoutMs,
  );
}

/**
 * `redis-cli --cluster del-node`, then the node is stopped, its directory removed and it is
 * dropped from `cluster.nodes` (del-node resets it, and a reset node would fail the health probe).
 */
export async function removeNode(cluster: LocalCluster, node: RedisProcess): Promise<void> {
  const id = await nodeId(node);
  const others = cluster.nodes.filter((n) => n !== node);
  const live = await Promise.all(others.map((n) => n.isAlive()));
  const existing = others.find((_, i) => live[i]);
  if (!existing) throw new Error('no other node answers');
  await clusterCli(['del-node', address(existing), id], 20_000);
  cluster.nodes.splice(cluster.nodes.indexOf(node), 1);
  await node.destroy();
}

/**
 * Shuts the whole cluster down gracefully, masters first (SIGTERM: a master fsyncs its AOF and
 * waits for its replicas to catch up before exiting; replicas stopped first would make it wait
 * for nothing), and keeps every data directory.
 */
export async function shutdownCluster(cluster: LocalCluster): Promise<void> {
  const topology = await cluster.topology();
  const masterPorts = new Set(topology.filter((v) => v.role === 'master').map((v) => v.port));
  const masters = cluster.nodes.filter((n) => masterPorts.has(n.port));
  const replicas = cluster.nodes.filter((n) => !masterPorts.has(n.port));
  await Promise.all(masters.map((n) => n.stop()));
  await Promise.all(replicas.map((n) => n.stop()));
}

/** Starts every node again on its port, from its AOF and nodes.conf. */
export async function startClusterAgain(cluster: LocalCluster): Promise<void> {
  await Promise.all(cluster.nodes.map((n) => n.start()));
}
