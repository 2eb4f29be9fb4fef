import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { HostPort, RedisSettings } from '../../config/settings';
import { StoreUnavailableError } from '../../errors';
import { SESSION_FORMATS } from '../record-codec';
import { Rediscovery, resolveName } from './rediscovery';

export type RedisClient = Redis | Cluster;

/** The newest session format this build reads: its connections' names carry it. */
const NEWEST_READ = Math.max(...SESSION_FORMATS);

/** Requests retried after a reconnect before they fail: an outage must answer 503 quickly. */
const MAX_RETRIES_PER_REQUEST = 1;

/**
 * The clients of one engine, made from RedisSettings. Two clients, never one:
 * - `reads`: GETs and read-mostly scripts, auto-pipelined (one socket write per node per turn);
 * - `writes`: write scripts, each followed by WAIT when durability is asked. WAIT blocks the
 *   connection it runs on and counts only that connection's writes, so reads never share it.
 * Reads go to masters only: a lagging replica could show a revoked session again.
 */
export class RedisConnection {
  /** Cluster mode: keeps both clients' startup nodes current (ADR 210). */
  readonly rediscovery: Rediscovery | undefined;

  private constructor(
    readonly settings: RedisSettings,
    readonly reads: RedisClient,
    readonly writes: RedisClient,
  ) {
    if (reads instanceof Cluster && writes instanceof Cluster) {
      this.rediscovery = new Rediscovery(settings, [reads, writes]);
      this.rediscovery.start();
    }
  }

  get isCluster(): boolean {
    return this.settings.mode === 'cluster';
  }

  /** Resolves seeds, connects both clients; StoreUnavailableError when the store cannot be reached. */
  static async open(settings: RedisSettings, name = 'holdfast'): Promise<RedisConnection> {
    const seeds = await resolveSeeds(settings);
    const reads = createClient(settings, seeds, {
      name: connectionName(name, 'reads'),
      autoPipelining: true,
    });
    const writes = createClient(settings, seeds, {
      name: connectionName(name, 'writes'),
      autoPipelining: false,
    });
    // Both settle before giving up, so neither is left connecting (or retrying) in the background.
    const results = await Promise.allSettled([reads.connect(), writes.connect()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      reads.disconnect();
      writes.disconnect();
      throw new StoreUnavailableError(`connect (${describeSeeds(settings, seeds)})`, failed.reason);
    }
    return new RedisConnection(settings, reads, writes);
  }

  /** QUIT both clients (in-flight replies are still delivered), then drop what QUIT leaves. */
  async close(): Promise<void> {
    this.rediscovery?.stop();
    await Promise.all(
      [this.reads, this.writes].map(async (client) => {
        if (client.status !== 'end') await client.quit().catch(() => undefined);
        // A client that could not send QUIT (the store is down: no offline queue) is still
        // reconnecting, and its timer would keep a stopping process alive; disconnect() ends it.
        // QUIT does not end the sentinel failover detector's subscriptions either.
        if (client.status !== 'end' || this.settings.mode === 'sentinel') client.disconnect();
      }),
    );
  }
}

/**
 * A node's connection name, `<name>-<role>-f<n>`: n is the newest session format this build reads,
 * so `holdfast store upgrade-format` can tell from CLIENT LIST whether a node of an older build
 * (`<name>-reads`, `<name>-writes`, no mark) is still connected (ADR 265).
 */
export function connectionName(name: string, role: string): string {
  return `${name}-${role}-f${NEWEST_READ}`;
}

/** The master connections of a client: every cluster master, or the one server. */
export function masters(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Seed nodes: the configured ones, plus every address the DNS name resolves to at start. */
export async function resolveSeeds(settings: RedisSettings): Promise<HostPort[]> {
  const seeds = [...settings.nodes];
  if (settings.dns) {
    const { name } = settings.dns;
    try {
      seeds.push(...(await resolveName(settings)));
    } catch (err) {
      throw new StoreUnavailableError(`DNS discovery of store.redis.dns.name ${name}`, err);
    }
  }
  const unique = new Map(seeds.map((s) => [`${s.host}:${s.port}`, s]));
  if (unique.size === 0) {
    throw new StoreUnavailableError(
      'connect',
      'no seed node: set store.redis.nodes or store.redis.dns',
    );
  }
  return [...unique.values()];
}

/** Commands only the user and throttle stores send on the reads client (rare: account changes). */
const UNPIPELINED_WRITES = ['eval', 'hset', 'hsetnx', 'set', 'del'] as const;

interface ClientRole {
  readonly name: string;
  readonly autoPipelining: boolean;
}

function createClient(settings: RedisSettings, seeds: HostPort[], role: ClientRole): RedisClient {
  const common: RedisOptions = {
    connectionName: role.name,
    username: settings.username,
    password: settings.password,
    tls: settings.tls ? {} : undefined,
    // A dead node must not hang requests until the TCP timeout (ioredis #559).
    commandTimeout: settings.commandTimeout,
    connectTimeout: settings.connectTimeout,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    // After disconnect(), how long a socket may linger before it is destroyed (keeps exit quick).
    disconnectTimeout: 500,
    lazyConnect: true,
  };
  let client: RedisClient;
  if (settings.mode === 'cluster') {
    const options: ClusterOptions = {
      redisOptions: common,
      scaleReads: 'master',
      enableAutoPipelining: role.autoPipelining,
      // The user and throttle stores' writes on the reads client, sent alone: ioredis then follows
      // their MOVED/ASK itself (their guard holds only a thunk, not the node a redirect names).
      // In an auto-pipelined batch beside other writes it would hand the redirect back instead.
      autoPipeliningIgnoredCommands: role.autoPipelining ? [...UNPIPELINED_WRITES] : [],
      natMap: { ...settings.natMap },
      slotsRefreshTimeout: settings.connectTimeout,
      // A slot being migrated answers TRYAGAIN for milliseconds: ioredis's default 100 ms wait per
      // try (16 tries) would outlast the operation's deadline; commands.ts backs off after these.
      retryDelayOnTryAgain: 10,
      lazyConnect: true,
      // With TLS the certificate names the host, so seeds must not be replaced by resolved IPs.
      ...(settings.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    };
    client = new Cluster(
      seeds.map((s) => ({ host: s.host, port: s.port })),
      options,
    );
    skipEmptySlotMaps(client);
  } else if (settings.mode === 'sentinel') {
    client = new Redis({
      ...common,
      sentinels: seeds.map((s) => ({ host: s.host, port: s.port })),
      name: settings.sentinelName,
      role: 'master',
      enableTLSForSentinelMode: settings.tls,
      natMap: { ...settings.natMap },
      sentinelCommandTimeout: settings.connectTimeout,
      // Reconnect as soon as sentinels announce a new master, and when a demoted master refuses
      // a write, instead of failing until the old connection breaks.
      failoverDetector: true,
      reconnectOnError: (err) => err.message.startsWith('READONLY'),
      enableAutoPipelining: role.autoPipelining,
    });
  } else {
    client = new Redis({
      ...common,
      host: seeds[0].host,
      port: seeds[0].port,
      enableAutoPipelining: role.autoPipelining,
    });
  }
  // Queue commands only until the first connection: afterwards an outage fails fast (503)
  // instead of piling requests up in memory.
  client.once('ready', () => {
    client.options.enableOfflineQueue = false;
  });
  // Errors surface on the commands; an unhandled 'error' event would crash the process.
  client.on('error', () => {});
  return client;
}

type SlotsSource = (node: Redis | undefined, callback: (err?: Error) => void) => void;
type Reply = (err: Error | null, reply?: unknown) => void;

/**
 * ioredis refreshes its slot map from one node picked at random, and replaces its whole connection
 * pool with the nodes of that node's CLUSTER SLOTS reply. A master removed by `redis-cli --cluster
 * del-node` is reset and answers an empty reply while clients still have it in their pool: taken as
 * the map, it disconnected every node and the client failed every request ("Cluster isn't ready")
 * until it reconnected from its seeds, ~200 × 503 in the drain test (ADR 186). A node that knows
 * no slot is no source of a slot map: that very reply is turned into an error, and ioredis asks the
 * next node. ioredis sends CLUSTER SLOTS on `node.duplicate()`, so the node handed to it is one
 * whose duplicate's CLUSTER SLOTS reply is checked (the reply ioredis then uses, no second query:
 * a node reset between two queries cannot slip through). Through ioredis's untyped
 * getInfoFromNode (5.x); when missing, the client is left as it is
 * (test/integration/store/removed-node.test.ts then fails).
 */
function skipEmptySlotMaps(cluster: Cluster): void {
  const target = cluster as unknown as { getInfoFromNode?: SlotsSource };
  const original = target.getInfoFromNode;
  if (typeof original !== 'function') return;
  target.getInfoFromNode = function (node, callback) {
    if (!node) return original.call(this, node, callback);
    const checked = Object.create(node) as Redis;
    checked.duplicate = (...args: Parameters<Redis['duplicate']>) => {
      const copy = node.duplicate(...args);
      const send = copy.cluster.bind(copy) as (sub: string, cb: Reply) => unknown;
      (copy as unknown as { cluster: (sub: string, cb: Reply) => unknown }).cluster = (sub, cb) =>
        send(sub, (err, reply) => {
          if (!err && sub === 'SLOTS' && Array.isArray(reply) && reply.length === 0) {
            const at = `${String(node.options.host)}:${String(node.options.port)}`;
            return cb(new Error(`${at} serves no slot (removed from the cluster?)`));
          }
          return cb(err, reply);
        });
      return copy;
    };
    return original.call(this, checked, callback);
  };
}

function describeSeeds(settings: RedisSettings, seeds: HostPort[]): string {
  const list = seeds.map((s) => `${s.host}:${s.port}`).join(', ');
  return `store.redis.mode ${settings.mode}, ${settings.mode === 'sentinel' ? 'sentinels' : 'nodes'} ${list}`;
}
