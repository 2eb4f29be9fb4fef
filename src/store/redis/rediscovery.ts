import { lookup, Resolver } from 'node:dns/promises';
import type { Cluster } from 'ioredis';
import type { HostPort, RedisSettings } from '../../config/settings';
import type { Logger } from '../../log/logger';

/**
 * Where a cluster client looks for the cluster when it has lost every node (ADR 210).
 *
 * ioredis Cluster keeps the startup nodes it was given for its whole life: once every node of its
 * pool is gone it reconnects to those addresses only, and retries them forever when the cluster
 * came back elsewhere (pods rescheduled on new IPs, ioredis #1732). Its pool follows the slot map
 * while one node still answers, so what goes stale is the startup list. This module keeps it
 * current: with `store.redis.dns` the name is re-resolved; with a seed list the nodes of the last
 * slot map join the configured seeds. It runs every `rediscoverInterval` and, at most once a
 * second, whenever a connection to the store fails.
 */

/** Every address `store.redis.dns.name` resolves to now, with `store.redis.dns.port`. */
export async function resolveName(settings: RedisSettings): Promise<HostPort[]> {
  if (!settings.dns) return [];
  const { name, port } = settings.dns;
  let addresses: string[];
  if (settings.dnsServers.length === 0) {
    // The system resolver: /etc/hosts and nsswitch apply, as for any other program on the host.
    addresses = (await lookup(name, { all: true })).map((a) => a.address);
  } else {
    const resolver = new Resolver({ timeout: Math.min(settings.connectTimeout, 2000), tries: 2 });
    resolver.setServers([...settings.dnsServers]);
    const answers = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    addresses = answers.flatMap((a) => (a.status === 'fulfilled' ? a.value : []));
    if (addresses.length === 0) {
      const failure = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected');
      throw failure?.reason ?? new Error(`${name} has no A or AAAA record`);
    }
  }
  return addresses.map((host) => ({ host, port }));
}

export function addressKey(node: HostPort): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}

function unique(nodes: readonly HostPort[]): HostPort[] {
  return [...new Map(nodes.map((n) => [addressKey(n), { host: n.host, port: n.port }])).values()];
}

/**
 * The process's record of seed changes: a count (exported as holdfast_store_seed_changes_total)
 * and one info line per change naming the addresses added and removed.
 */
export class SeedLog {
  changes = 0;
  resolveFailures = 0;
  private logger: Logger | undefined;

  useLogger(logger: Logger | undefined): void {
    this.logger = logger;
  }

  changed(source: 'dns' | 'slot map', before: readonly string[], after: readonly string[]): void {
    this.changes++;
    const added = after.filter((a) => !before.includes(a));
    const removed = before.filter((a) => !after.includes(a));
    this.logger?.info(
      { source, added, removed, seeds: after },
      `store seed nodes changed (${source}): now ${after.join(', ')}` +
        (added.length ? `; added ${added.join(', ')}` : '') +
        (removed.length ? `; removed ${removed.join(', ')}` : ''),
    );
  }

  resolveFailed(name: string, err: unknown): void {
    this.resolveFailures++;
    // Not a line per failure: during an outage the name may fail every second.
    if (this.resolveFailures === 1 || this.resolveFailures % 60 === 0) {
      this.logger?.warn(
        { name, failures: this.resolveFailures, error: String(err) },
        `store.redis.dns.name ${name} did not resolve (keeping the previous seeds): ${String(err)}`,
      );
    }
  }
}

export const storeSeeds = new SeedLog();

/** ioredis's field; private in its types, read by every connect() (cluster/index.js). */
type WithStartupNodes = { startupNodes: HostPort[] };

/** At most one re-resolve a second on failures: a reconnect loop must not flood the resolver. */
const FAILURE_GAP_MS = 1000;

export class Rediscovery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastFailureRun = 0;
  /** Addresses of the nodes in the last slot map a node answered (seed-list mode). */
  private lastMap: HostPort[] = [];
  private stopped = false;

  constructor(
    private readonly settings: RedisSettings,
    private readonly clients: readonly Cluster[],
    private readonly log: SeedLog = storeSeeds,
    private readonly now: () => number = Date.now,
  ) {
    for (const client of clients) {
      client.on('refresh', () => this.rememberMap(client));
      client.on('node error', () => this.onFailure());
      client.on('reconnecting', () => this.onFailure());
    }
  }

  start(): void {
    const interval = this.settings.rediscoverInterval;
    if (interval > 0 && !this.timer) {
      this.timer = setInterval(() => void this.refresh(), interval);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The startup nodes the clients reconnect to now. */
  get seeds(): HostPort[] {
    return [...(this.clients[0] as unknown as WithStartupNodes).startupNodes];
  }

  /** Re-resolves (or rebuilds from the last slot map) and replaces the startup nodes if they differ. */
  refresh(): Promise<void> {
    this.running ??= this.rebuild().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private onFailure(): void {
    if (this.stopped) return;
    const now = this.now();
    if (now - this.lastFailureRun < FAILURE_GAP_MS) return;
    this.lastFailureRun = now;
    void this.refresh();
  }

  private rememberMap(client: Cluster): void {
    const nodes = client.nodes('all').map((n) => ({
      host: String(n.options.host),
      port: Number(n.options.port),
    }));
    // A drained pool has no nodes: the last map that had some is still the best guess.
    if (nodes.length > 0) this.lastMap = nodes;
  }

  private async rebuild(): Promise<void> {
    let seeds: HostPort[];
    const source = this.settings.dns ? 'dns' : 'slot map';
    if (this.settings.dns) {
      try {
        seeds = unique([...(await resolveName(this.settings)), ...this.settings.nodes]);
      } catch (err) {
        this.log.resolveFailed(this.settings.dns.name, err);
        return;
      }
    } else {
      // Configured seeds first (the operator's list), then wherever the cluster was last seen.
      seeds = unique([...this.settings.nodes, ...this.lastMap]);
    }
    if (this.stopped || seeds.length === 0) return;
    const before = this.seeds.map(addressKey);
    const after = seeds.map(addressKey);
    if (before.length === after.length && after.every((a) => before.includes(a))) return;
    for (const client of this.clients) {
      (client as unknown as WithStartupNodes).startupNodes = seeds.map((s) => ({ ...s }));
    }
    this.log.changed(source, before, after);
  }
}
