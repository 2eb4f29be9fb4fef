/**
 * The containers provider: the same RedisNode and cluster handles as the local one, with each
 * redis-server in its own container started through testcontainers (11.x: 12.x needs Node
 * >= 22.22 and the project supports 22.12+). Any Docker-compatible engine works: Docker, or
 * podman's API socket as `make test` uses it (scripts/containers/podman.sh).
 *
 * Host networking: every server listens on a free port of the host's loopback, so the test
 * process and the other cluster nodes reach it at the address it announces (127.0.0.1:port)
 * with no port mapping and no cluster-announce-* settings. The data directory is the
 * container's own /data, so stop()/start() keep the AOF and nodes.conf, and removing the
 * container is the cleanup.
 */
import {
  GenericContainer,
  getContainerRuntimeClient,
  type ContainerRuntimeClient,
} from 'testcontainers';
import { formLocalCluster, LocalCluster } from './cluster';
import { freeClusterPorts, freePort, LOOPBACK } from './ports';
import { argValue, HarnessNode, PortInUseError, waitForPong } from './node-common';
import { SLOT_COUNT } from './slots';
import { formSentinelSet, type LocalSentinelSet } from './sentinel';
import type { ClusterOptions, RedisNode, SentinelOptions, StandaloneOptions } from './types';
import { notYet, waitUntil } from './wait';

/**
 * The image: anything whose entrypoint is redis-server (7.0+). `make test` builds
 * localhost/holdfast-redis:<version> from Debian's redis-server; a contributor with Docker
 * can leave the default and let Docker pull the official image.
 */
export const REDIS_IMAGE = process.env.HOLDFAST_REDIS_IMAGE ?? 'redis:7.2';
/**
 * Every harness container carries these labels. HOLDFAST_CONTAINERS_OWNER (set by
 * scripts/containers/podman.sh to its checkout) marks whose run it is, so `podman.sh down`
 * removes only its own run's containers, never another checkout's on the same engine.
 */
export const HARNESS_LABEL: Record<string, string> = {
  'holdfast.harness': 'redis',
  ...(process.env.HOLDFAST_CONTAINERS_OWNER
    ? { 'holdfast.harness.owner': process.env.HOLDFAST_CONTAINERS_OWNER }
    : {}),
};
const STOP_GRACE_S = 3;

type EngineContainer = ReturnType<ContainerRuntimeClient['container']['getById']>;

/** The engine's log stream without TTY is framed: 8-byte headers (stream, 0, 0, 0, length). */
export function demuxLogs(buffer: Buffer): string {
  let text = '';
  let at = 0;
  while (at + 8 <= buffer.length && buffer[at] <= 2 && buffer.readUInt16BE(at + 1) === 0) {
    const length = buffer.readUInt32BE(at + 4);
    text += buffer.subarray(at + 8, at + 8 + length).toString('utf8');
    at += 8 + length;
  }
  return at === 0 ? buffer.toString('utf8') : text;
}

export interface ContainerRedisOptions extends StandaloneOptions {
  port: number;
  readyTimeoutMs?: number;
  /** 'sentinel' runs `redis-server /data/sentinel.conf --sentinel`, no persistence arguments. */
  kind?: 'server' | 'sentinel';
  /** Copied to /data/sentinel.conf (kind 'sentinel'): Sentinel rewrites its own config. */
  configText?: string;
}

const SENTINEL_CONF = '/data/sentinel.conf';

/** One redis-server in a container on the host's network. */
export class ContainerRedis extends HarnessNode implements RedisNode {
  readonly host = LOOPBACK;
  readonly port: number;
  readonly password?: string;
  readonly args: readonly string[];
  private container?: EngineContainer;
  private client?: ContainerRuntimeClient;

  constructor(private readonly opts: ContainerRedisOptions) {
    super();
    this.port = opts.port;
    const extra = opts.extraArgs ?? [];
    this.password = argValue(extra, '--requirepass');
    const sentinel = opts.kind === 'sentinel';
    // No --logfile: the server logs to stdout, which the engine keeps (logTail()).
    this.args = [
      ...(sentinel ? [SENTINEL_CONF] : []),
      '--port',
      String(opts.port),
      '--bind',
      LOOPBACK,
      '--dir',
      '/data',
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      // An empty argv entry reaches Redis as `save ""`: no RDB snapshots.
      ...(sentinel
        ? []
        : ['--appendonly', opts.appendonly === false ? 'no' : 'yes', '--save', opts.save ?? '']),
      ...extra,
      ...(sentinel ? ['--sentinel'] : []),
    ];
  }

  /** The container's id once created. */
  get id(): string | undefined {
    return this.container?.id;
  }

  async start(): Promise<void> {
    if (this.container && this.client) {
      await this.client.container.start(this.container);
    } else {
      const image = new GenericContainer(REDIS_IMAGE);
      if (this.opts.configText !== undefined) {
        image.withCopyContentToContainer([
          { content: this.opts.configText, target: SENTINEL_CONF },
        ]);
      }
      const started = await image
        .withNetworkMode('host')
        .withCommand([...this.args])
        .withLabels(HARNESS_LABEL)
        // Podman on the project's machines needs these limits; they are harmless elsewhere.
        .withUlimits({
          nofile: { soft: 1024, hard: 1024 },
          nproc: { soft: 1024, hard: 1024 },
        })
        .withStartupTimeout(this.opts.readyTimeoutMs ?? 30000)
        .start();
      this.client = await getContainerRuntimeClient();
      this.container = this.client.container.getById(started.getId());
    }
    await this.waitReady();
  }

  private async running(): Promise<boolean> {
    if (!this.container || !this.client) return false;
    const state = (await this.client.container.inspect(this.container)).State;
    return state.Running;
  }

  /**
   * Whether a failed stop/kill only found the container already stopped: Docker answers 304
   * or 409, podman 500 ("container state improper"), so ask for the state instead.
   */
  private async alreadyDone(error: unknown): Promise<boolean> {
    const status = (error as { statusCode?: number }).statusCode;
    return status === 304 || status === 409 || !(await this.running());
  }

  private waitReady(): Promise<void> {
    return waitForPong(
      this,
      this.opts.readyTimeoutMs ?? 10000,
      async () => ((await this.running()) ? undefined : 'exited'),
      (problem, log) => this.describe(problem, log),
    );
  }

  private describe(problem: string, log: string): string {
    return (
      `redis ${this.host}:${this.port} in container ${this.id?.slice(0, 12) ?? '-'} ` +
      `(${REDIS_IMAGE}) ${problem}\n` +
      `  command: redis-server ${this.args.map((a) => (a === '' ? '""' : a)).join(' ')}\n` +
      `  last log lines:\n${log.replace(/^/gm, '    ')}`
    );
  }

  /** docker stop: SIGTERM, SIGKILL after 3 s. The container and its /data stay. */
  async stop(): Promise<void> {
    if (!this.container || !this.client) return;
    try {
      await this.client.container.stop(this.container, { timeout: STOP_GRACE_S });
    } catch (error) {
      if (!(await this.alreadyDone(error))) throw error;
    }
  }

  async kill9(): Promise<void> {
    if (!this.container) return;
    try {
      await this.container.kill({ signal: 'SIGKILL' });
    } catch (error) {
      if (!(await this.alreadyDone(error))) throw error;
    }
    // kill returns once the signal is sent; callers expect the server to be gone.
    await waitUntil(
      `the container of redis ${this.port} to exit`,
      async () => ((await this.running()) ? notYet('still running') : true),
      { timeoutMs: 10000, intervalMs: 20 },
    );
  }

  /** Removes the container and its data. */
  async cleanup(): Promise<void> {
    if (!this.container) return;
    if (await this.running()) {
      throw new Error(`stop redis ${this.host}:${this.port} before cleanup()`);
    }
    try {
      await this.container.remove({ force: true, v: true });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
    this.container = undefined;
  }

  async logTail(lines = 20): Promise<string> {
    if (!this.container) return '(no container)';
    try {
      const raw = (await this.container.logs({
        stdout: true,
        stderr: true,
        follow: false,
        tail: lines,
      })) as unknown as Buffer;
      return demuxLogs(Buffer.from(raw)).trimEnd() || '(empty)';
    } catch (error) {
      return `(logs unavailable: ${(error as Error).message})`;
    }
  }
}

/** Starts one containerised server; on a port taken meanwhile, again elsewhere (5 tries). */
export async function startContainerRedis(
  opts: Omit<ContainerRedisOptions, 'port'> & { clusterPorts?: boolean },
): Promise<ContainerRedis> {
  for (let attempt = 1; ; attempt++) {
    const port = opts.clusterPorts ? (await freeClusterPorts(1))[0] : await freePort();
    const node = new ContainerRedis({ ...opts, port });
    try {
      await node.start();
      return node;
    } catch (error) {
      await node.kill9().catch(() => undefined);
      await node.cleanup().catch(() => undefined);
      if (!(error instanceof PortInUseError) || attempt >= 5) throw error;
    }
  }
}

/**
 * Forms a cluster with plain CLUSTER commands from the test process, so the host needs no
 * redis-cli: slots split evenly over the first `masters` nodes, MEET, then REPLICATE.
 */
async function formCluster(
  nodes: ContainerRedis[],
  masters: number,
  timeoutMs: number,
): Promise<void> {
  const leaders = nodes.slice(0, masters);
  await Promise.all(
    leaders.map((node, i) => {
      const from = Math.floor((i * SLOT_COUNT) / masters);
      const to = Math.floor(((i + 1) * SLOT_COUNT) / masters) - 1;
      return node.command(['CLUSTER', 'ADDSLOTSRANGE', from, to]);
    }),
  );
  // Distinct epochs up front, as redis-cli does, so no epoch collision has to be resolved.
  await Promise.all(nodes.map((node, i) => node.command(['CLUSTER', 'SET-CONFIG-EPOCH', i + 1])));
  const [first, ...rest] = nodes;
  await Promise.all(rest.map((node) => node.command(['CLUSTER', 'MEET', first.host, first.port])));
  await waitUntil(
    `all ${nodes.length} cluster nodes to know each other`,
    async () => {
      for (const node of nodes) {
        const lines = String(await node.command(['CLUSTER', 'NODES']))
          .trim()
          .split('\n');
        const settled = lines.filter((l) => !/handshake|noaddr/.test(l));
        if (settled.length < nodes.length) return notYet(`${node.port} knows ${settled.length}`);
      }
      return true;
    },
    { timeoutMs, intervalMs: 50 },
  );
  const ids = await Promise.all(
    leaders.map(async (n) => String(await n.command(['CLUSTER', 'MYID']))),
  );
  await Promise.all(
    nodes.slice(masters).map((node, i) => node.command(['CLUSTER', 'REPLICATE', ids[i % masters]])),
  );
}

/** The local cluster's shape and settings (cluster.ts), on containerised nodes. */
export async function startContainerCluster(
  opts: ClusterOptions = {},
): Promise<LocalCluster<ContainerRedis>> {
  return formLocalCluster(
    opts,
    (args) => startContainerRedis({ clusterPorts: true, extraArgs: args }),
    ({ nodes, masters, timeoutMs }) => formCluster(nodes, masters, timeoutMs),
  );
}

/** The local Sentinel set's shape (sentinel.ts): master, replica and sentinels in containers. */
export function startContainerSentinelSet(
  opts: SentinelOptions = {},
): Promise<LocalSentinelSet<ContainerRedis>> {
  return formSentinelSet(opts, (o) => startContainerRedis(o));
}
