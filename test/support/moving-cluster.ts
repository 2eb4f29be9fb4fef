/**
 * A Redis Cluster (masters only) whose nodes come back on new addresses, as pods rescheduled by
 * Kubernetes do: each node binds its own loopback address (127.x.y.z, all on one port, like pods
 * behind one headless service) and announces it. A node keeps its identity (nodes.conf) and data
 * (AOF) when it moves. Real redis-server processes from test/harness.
 */
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  freeClusterPorts,
  notYet,
  parseInfo,
  REDIS_CLI,
  RedisProcess,
  startRedis,
  waitUntil,
} from '../harness';

function clusterArgs(host: string): string[] {
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    '2000',
    // The address peers and clients are told; a moved node tells them its new one.
    '--cluster-announce-ip',
    host,
  ];
}

export class MovingCluster {
  private constructor(
    readonly port: number,
    public nodes: RedisProcess[],
  ) {}

  get hosts(): string[] {
    return this.nodes.map((n) => n.host);
  }

  get seeds(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: n.host, port: n.port }));
  }

  /**
   * One node per host, all on one port; or, with `ownPorts`, hosts may repeat and each node gets a
   * port of its own (then only moveAll/restartAll: `move` keeps the shared port).
   */
  static async start(hosts: string[], opts: { ownPorts?: boolean } = {}): Promise<MovingCluster> {
    const [port] = await freeClusterPorts(1);
    const nodes: RedisProcess[] = [];
    const cluster = new MovingCluster(port, nodes);
    try {
      for (const host of hosts) {
        nodes.push(
          await startRedis(
            opts.ownPorts
              ? { host, clusterPorts: true, extraArgs: clusterArgs(host) }
              : { host, port, extraArgs: clusterArgs(host) },
          ),
        );
      }
      await new Promise<void>((resolve, reject) =>
        execFile(
          REDIS_CLI,
          ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-yes'],
          { timeout: 30_000 },
          (error, _stdout, stderr) =>
            error ? reject(new Error(`cluster create: ${stderr || error.message}`)) : resolve(),
        ),
      );
      await cluster.waitHealthy();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Every node answers cluster_state:ok and lists exactly the current addresses. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const expected = this.nodes.map((n) => `${n.host}:${n.port}`).sort();
    await waitUntil(
      'moving cluster healthy',
      async () => {
        for (const node of this.nodes) {
          const info = parseInfo(String(await node.command(['CLUSTER', 'INFO'])));
          if (info.cluster_state !== 'ok') return notYet(`${node.host}: cluster_state not ok`);
          const text = String(await node.command(['CLUSTER', 'NODES']));
          const seen = text
            .trim()
            .split('\n')
            .map((line) => line.split(' ')[1].split('@')[0])
            .sort();
          if (seen.join() !== expected.join()) return notYet(`${node.host} sees ${seen.join()}`);
        }
        return true;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Node i stops and comes back on `host` (same port, identity and data); the others stay up. */
  async move(i: number, host: string): Promise<void> {
    const old = this.nodes[i];
    await old.stop();
    this.nodes[i] = await this.relocate(old, host, (text) => text);
    await old.cleanup();
  }

  /**
   * Every node stops; all come back on `hosts` at once. Their nodes.conf is rewritten to the new
   * addresses first (what a chart's start script does): otherwise no node could find another.
   */
  async moveAll(hosts: string[]): Promise<void> {
    const old = this.nodes;
    await Promise.all(old.map((n) => n.stop()));
    const rename = (text: string): string =>
      old.reduce((t, n, i) => t.split(`${n.host}:${n.port}@`).join(`${hosts[i]}:${n.port}@`), text);
    this.nodes = [];
    for (const [i, node] of old.entries()) {
      this.nodes.push(await this.relocate(node, hosts[i], rename));
    }
    await Promise.all(old.map((n) => n.cleanup()));
  }

  /** Stops every node and starts them again where they are (a whole-cluster restart). */
  async restartAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    await Promise.all(this.nodes.map((n) => n.start()));
  }

  private async relocate(
    old: RedisProcess,
    host: string,
    rewrite: (nodesConf: string) => string,
  ): Promise<RedisProcess> {
    const moved = await RedisProcess.create(this.port, {
      host,
      port: this.port,
      extraArgs: clusterArgs(host),
    });
    const conf = await fsp.readFile(path.join(old.dir, 'nodes.conf'), 'utf8');
    await fsp.writeFile(path.join(moved.dir, 'nodes.conf'), rewrite(conf));
    await fsp.cp(path.join(old.dir, 'appendonlydir'), path.join(moved.dir, 'appendonlydir'), {
      recursive: true,
    });
    await moved.start();
    return moved;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }
}
