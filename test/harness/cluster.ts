/**
 * A Redis Cluster of local processes: N masters with R replicas each, created with
 * `redis-cli --cluster create`, ready only when every node agrees the cluster is ok and every
 * replica's link to its master is up (so failover tests start from a replicated state).
 */
import { execFile } from 'node:child_process';
import { replicationArgs } from './node-common';
import { RedisProcess, startRedis } from './redis-process';
import { parseInfo, redisCommand, type RespReply } from './resp';
import { SLOT_COUNT } from './slots';
import type {
  ClusterNodeView,
  ClusterOptions,
  Endpoint,
  RedisClusterHandle,
  RedisNode,
  WaitClusterOptions,
} from './types';
import { notYet, waitUntil, type NotYet } from './wait';

export const REDIS_CLI = process.env.HOLDFAST_REDIS_CLI ?? 'redis-cli';

/** Parses CLUSTER NODES output (importing/migrating slot markers are skipped). */
export function parseClusterNodes(text: string): ClusterNodeView[] {
  const views: ClusterNodeView[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, address, flagText, master] = fields;
    // ip:port@cport[,hostname]
    const hostPort = address.split('@')[0];
    const colon = hostPort.lastIndexOf(':');
    const flags = flagText.split(',');
    const slots: Array<[number, number]> = [];
    for (const range of fields.slice(8)) {
      if (range.startsWith('[')) continue;
      const [from, to] = range.split('-').map(Number);
      slots.push([from, to ?? from]);
    }
    views.push({
      id,
      host: hostPort.slice(0, colon),
      port: Number(hostPort.slice(colon + 1)),
      role: flags.includes('master') ? 'master' : 'replica',
      masterId: master === '-' ? undefined : master,
      flags,
      slots,
    });
  }
  return views;
}

const isFailing = (view: ClusterNodeView): boolean =>
  view.flags.some((f) => f === 'fail' || f === 'fail?' || f === 'handshake' || f === 'noaddr');

export function runRedisCli(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(`${REDIS_CLI} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`),
        );
      } else {
        resolve(stdout);
      }
    });
  });
}

/** A cluster over harness nodes: local processes here, containers in containers.ts. */
export class LocalCluster<N extends RedisNode = RedisProcess> implements RedisClusterHandle {
  readonly seeds: Endpoint[];

  constructor(
    readonly nodes: N[],
    readonly password?: string,
  ) {
    this.seeds = nodes.map((n) => ({ host: n.host, port: n.port }));
  }

  nodeAt(endpoint: Endpoint): N | undefined {
    return this.nodes.find((n) => n.port === endpoint.port && n.host === endpoint.host);
  }

  /** Nodes that answer PING now. */
  async liveNodes(): Promise<N[]> {
    const alive = await Promise.all(this.nodes.map((n) => n.isAlive()));
    return this.nodes.filter((_, i) => alive[i]);
  }

  /** Runs a command on the first live node. */
  private async ask(args: ReadonlyArray<string | number>): Promise<RespReply> {
    let lastError: unknown = new Error('no node answers');
    for (const node of this.nodes) {
      try {
        return await redisCommand(node, args, { password: this.password, timeoutMs: 1000 });
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  private withNodes(views: ClusterNodeView[]): ClusterNodeView[] {
    return views.map((v) => ({ ...v, node: this.nodeAt(v) }));
  }

  async topology(): Promise<ClusterNodeView[]> {
    return this.withNodes(parseClusterNodes(String(await this.ask(['CLUSTER', 'NODES']))));
  }

  async masters(): Promise<ClusterNodeView[]> {
    return (await this.topology()).filter(
      (v) => v.role === 'master' && v.slots.length > 0 && !isFailing(v),
    );
  }

  async replicas(): Promise<ClusterNodeView[]> {
    return (await this.topology()).filter((v) => v.role === 'replica');
  }

  async slotOf(key: string): Promise<number> {
    return Number(await this.ask(['CLUSTER', 'KEYSLOT', key]));
  }

  async masterForKey(key: string): Promise<N> {
    const slot = await this.slotOf(key);
    const ranges = (await this.ask(['CLUSTER', 'SLOTS'])) as RespReply[][];
    for (const [from, to, master] of ranges) {
      if (slot < Number(from) || slot > Number(to)) continue;
      const [host, port] = master as RespReply[];
      const node = this.nodeAt({ host: String(host), port: Number(port) });
      if (!node) throw new Error(`slot ${slot} is served by ${host}:${port}, not a harness node`);
      return node;
    }
    throw new Error(`no master serves slot ${slot} (key ${JSON.stringify(key)})`);
  }

  async killMasterForKey(key: string): Promise<N> {
    const node = await this.masterForKey(key);
    await node.kill9();
    return node;
  }

  async waitForHealthy(opts: WaitClusterOptions = {}): Promise<void> {
    const replicasPerMaster = opts.replicasPerMaster ?? 0;
    await waitUntil(
      `cluster ok${replicasPerMaster > 0 ? ` with ${replicasPerMaster} linked replica(s) per master` : ''}`,
      () => this.healthProbe(replicasPerMaster),
      { timeoutMs: opts.timeoutMs ?? 30000, intervalMs: 50 },
    );
  }

  private async healthProbe(replicasPerMaster: number): Promise<true | NotYet> {
    const live = await this.liveNodes();
    if (live.length === 0) return notYet('no node answers PING');
    const livePorts = new Set(live.map((n) => n.port));
    let agreed: string | undefined;
    let view: ClusterNodeView[] = [];
    for (const node of live) {
      const info = parseInfo(String(await node.command(['CLUSTER', 'INFO'])));
      if (info.cluster_state !== 'ok')
        return notYet(`${node.port}: cluster_state ${info.cluster_state}`);
      if (info.cluster_slots_ok !== String(SLOT_COUNT)) {
        return notYet(`${node.port}: cluster_slots_ok ${info.cluster_slots_ok}`);
      }
      view = parseClusterNodes(String(await node.command(['CLUSTER', 'NODES'])));
      const serving = view.filter((v) => v.role === 'master' && v.slots.length > 0);
      for (const master of serving) {
        if (isFailing(master) || !livePorts.has(master.port)) {
          return notYet(`${node.port} sees slots on ${master.port} (${master.flags.join(',')})`);
        }
      }
      // Every node must map slots to the same masters, or clients get redirected in circles.
      const signature = serving
        .map((m) => `${m.id}:${JSON.stringify(m.slots)}`)
        .sort()
        .join(' ');
      if (agreed !== undefined && agreed !== signature) {
        return notYet('nodes disagree about the slot configuration');
      }
      agreed = signature;
    }
    if (replicasPerMaster > 0) {
      for (const master of view.filter((v) => v.role === 'master' && v.slots.length > 0)) {
        let linked = 0;
        for (const replica of view.filter((v) => v.masterId === master.id && !isFailing(v))) {
          const node = this.nodeAt(replica);
          if (!node || !livePorts.has(node.port)) continue;
          const info = await node.info('replication');
          if (info.master_link_status === 'up' && info.master_port === String(master.port)) {
            linked++;
          }
        }
        if (linked < replicasPerMaster) {
          return notYet(`master ${master.port} has ${linked} linked replica(s)`);
        }
      }
    }
    return true;
  }

  /**
   * SIGKILLs every node and removes the dirs. Not SIGTERM: a Redis 7 master waits up to
   * shutdown-timeout for replicas that are shutting down too, and the data is discarded anyway.
   */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill9()));
    await Promise.all(this.nodes.map((n) => n.cleanup()));
  }
}

/**
 * Starts masters × (1 + replicasPerMaster) nodes, creates the cluster and waits until it is
 * healthy and replicated. On failure every node is stopped before the error propagates.
 */
export function startCluster(opts: ClusterOptions = {}): Promise<LocalCluster> {
  // AOF is on by default in startRedis (--appendonly yes): whole-cluster restarts reload it.
  return formLocalCluster(
    opts,
    (args) => startRedis({ clusterPorts: true, extraArgs: args }),
    async ({ nodes, replicasPerMaster, password, timeoutMs }) => {
      const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning'];
      await runRedisCli(
        [
          ...auth,
          '--cluster',
          'create',
          ...nodes.map((n) => `${n.host}:${n.port}`),
          '--cluster-replicas',
          String(replicasPerMaster),
          '--cluster-yes',
        ],
        timeoutMs,
      );
    },
  );
}

/** What a cluster-forming step is given: the started nodes and the cluster's shape. */
export interface ClusterToForm<N extends RedisNode> {
  nodes: N[];
  masters: number;
  replicasPerMaster: number;
  password?: string;
  timeoutMs: number;
}

/**
 * The cluster's shape and settings whatever runs the nodes: starts masters × (1 +
 * replicasPerMaster) nodes with `startNode`, joins them with `form`, and waits until the cluster
 * is healthy and replicated. On failure every node is stopped before the error propagates.
 */
export async function formLocalCluster<N extends RedisNode>(
  opts: ClusterOptions,
  startNode: (args: string[]) => Promise<N>,
  form: (cluster: ClusterToForm<N>) => Promise<void>,
): Promise<LocalCluster<N>> {
  const masters = opts.masters ?? 3;
  const replicasPerMaster = opts.replicasPerMaster ?? 1;
  const { args: replication, password } = replicationArgs(opts.extraArgs ?? []);
  const args = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(opts.nodeTimeoutMs ?? 2000),
    ...replication,
  ];
  const count = masters * (1 + replicasPerMaster);
  const started = await Promise.allSettled(Array.from({ length: count }, () => startNode(args)));
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const cluster = new LocalCluster(nodes, password);
  try {
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const timeoutMs = opts.readyTimeoutMs ?? 30000;
    await form({ nodes, masters, replicasPerMaster, password, timeoutMs });
    await cluster.waitForHealthy({ replicasPerMaster, timeoutMs });
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
