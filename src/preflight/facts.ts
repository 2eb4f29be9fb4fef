import type { HostPort, RedisSettings } from '../config';
import { resolveName } from '../store';
import { formatEndpoint, NodeProbe, ProbeOptions } from './probe';
import {
  ClusterNodeLine,
  parseClusterNodes,
  parseConfigReply,
  parseInfo,
  parseReplicaLines,
  parseSentinelList,
} from './redis-info';

/**
 * Everything the store checks look at, gathered once per preflight run: which nodes exist, how
 * connecting to each went, and what each says about itself (INFO, CONFIG, CLUSTER, TIME). The
 * checks are then plain functions of these facts.
 */

/** The CONFIG parameters the checks read; INFO stands in for some when CONFIG is refused. */
export const CONFIG_PARAMS = [
  'appendonly',
  'appendfsync',
  'save',
  'maxmemory-policy',
  'maxmemory',
  'cluster-require-full-coverage',
] as const;

export type NodeSource = 'seed' | 'cluster' | 'sentinel' | 'replica';

export interface NodeFacts {
  readonly probe: NodeProbe;
  readonly label: string;
  readonly source: NodeSource;
  info?: Record<string, string>;
  infoError?: string;
  /** CONFIG GET of CONFIG_PARAMS; undefined when refused (configError says how). */
  config?: Record<string, string>;
  configError?: string;
  clusterInfo?: Record<string, string>;
  clusterNodes?: ClusterNodeLine[];
  clusterError?: string;
  /** Server TIME minus our clock at the middle of the round trip. */
  clock?: { offsetMs: number; rttMs: number };
}

export interface SentinelAnswer {
  readonly sentinel: string;
  readonly master?: HostPort;
  readonly error?: string;
}

export interface StoreFacts {
  readonly settings: RedisSettings;
  readonly dns?: { readonly name: string; readonly addresses: string[]; readonly error?: string };
  /** The entry points probed first: configured and discovered nodes, or sentinels. */
  readonly seeds: NodeFacts[];
  /** Every data node found (masters and replicas), reachable or not. */
  readonly dataNodes: NodeFacts[];
  readonly sentinel?: {
    readonly answers: SentinelAnswer[];
    readonly master?: HostPort;
    /** The master's address as Holdfast reaches it (after store.redis.natMap). */
    readonly masterLabel?: string;
    readonly replicas: Array<Record<string, string>>;
  };
  /** The cluster as a reachable member reports it (CLUSTER NODES). */
  readonly cluster?: { readonly from: string; readonly view: ClusterNodeLine[] };
  close(): void;
}

/** A node that answered and accepted our credentials. */
export function usable(n: NodeFacts): boolean {
  return n.probe.usable;
}

export function role(n: NodeFacts): 'master' | 'replica' | 'unknown' {
  const r = n.info?.role;
  return r === 'master' ? 'master' : r === 'slave' ? 'replica' : 'unknown';
}

export async function gatherFacts(settings: RedisSettings): Promise<StoreFacts> {
  const opened: NodeProbe[] = [];
  const probeOpts: ProbeOptions = {
    tls: settings.tls,
    username: settings.username,
    password: settings.password,
    sendAuth: true,
    connectTimeout: settings.connectTimeout,
    // INFO of a node busy loading its data can take a while: preflight is not latency-bound.
    commandTimeout: Math.max(settings.commandTimeout, 5000),
  };
  const open = async (endpoint: HostPort, source: NodeSource, sendAuth = true) => {
    const probe = await NodeProbe.open(endpoint, { ...probeOpts, sendAuth });
    opened.push(probe);
    return { probe, label: probe.label, source } as NodeFacts;
  };
  const close = () => opened.forEach((p) => p.close());

  let dns: StoreFacts['dns'];
  const seedAddresses: HostPort[] = [...settings.nodes];
  if (settings.dns) {
    const { name } = settings.dns;
    try {
      // The resolver the running client uses (store.redis.dnsServers, ADR 210).
      const found = await resolveName(settings);
      dns = { name, addresses: found.map((a) => a.host) };
      seedAddresses.push(...found);
    } catch (err) {
      dns = { name, addresses: [], error: (err as NodeJS.ErrnoException).code ?? String(err) };
    }
  }
  const seedList = dedupe(seedAddresses);

  try {
    if (settings.mode === 'sentinel') {
      const seeds = await Promise.all(seedList.map((e) => open(e, 'seed', false)));
      await Promise.all(seeds.filter(usable).map((s) => collectInfo(s)));
      const sentinel = await askSentinels(seeds, settings.sentinelName);
      const endpoints: HostPort[] = [];
      if (sentinel.master) endpoints.push(mapNat(settings, sentinel.master));
      for (const r of sentinel.replicas) {
        if (r.ip && r.port) endpoints.push(mapNat(settings, { host: r.ip, port: Number(r.port) }));
      }
      const dataNodes = await Promise.all(dedupe(endpoints).map((e) => open(e, 'sentinel')));
      await Promise.all(dataNodes.filter(usable).map((n) => collectData(n)));
      const masterLabel = sentinel.master
        ? formatEndpoint(mapNat(settings, sentinel.master))
        : undefined;
      return { settings, dns, seeds, dataNodes, sentinel: { ...sentinel, masterLabel }, close };
    }

    const seeds = await Promise.all(seedList.map((e) => open(e, 'seed')));
    await Promise.all(seeds.filter(usable).map((n) => collectData(n)));
    const dataNodes = [...seeds];
    let cluster: StoreFacts['cluster'];

    const clusterSeed = seeds.find((s) => s.clusterNodes !== undefined);
    if (settings.mode === 'cluster' && clusterSeed?.clusterNodes) {
      cluster = { from: clusterSeed.label, view: clusterSeed.clusterNodes };
      const known = new Set(seeds.map((s) => s.label));
      const members = clusterSeed.clusterNodes
        .filter((n) => !n.flags.includes('noaddr') && n.port > 0)
        .map((n) => mapNat(settings, n))
        .filter((e) => !known.has(formatEndpoint(e)));
      const more = await Promise.all(dedupe(members).map((e) => open(e, 'cluster')));
      await Promise.all(more.filter(usable).map((n) => collectData(n)));
      dataNodes.push(...more);
    } else if (settings.mode === 'standalone') {
      // Replicas of the master: their persistence matters as much as the master's.
      const known = new Set(seeds.map((s) => s.label));
      const replicas: HostPort[] = [];
      for (const s of seeds.filter((n) => n.info?.role === 'master')) {
        for (const r of parseReplicaLines(s.info ?? {})) {
          if (r.ip && r.port) replicas.push(mapNat(settings, { host: r.ip, port: Number(r.port) }));
        }
      }
      const fresh = dedupe(replicas).filter((e) => !known.has(formatEndpoint(e)));
      const more = await Promise.all(fresh.map((e) => open(e, 'replica')));
      await Promise.all(more.filter(usable).map((n) => collectData(n)));
      dataNodes.push(...more);
    }
    return { settings, dns, seeds, dataNodes: sameServerOnce(dataNodes), cluster, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** INFO only (sentinels). */
async function collectInfo(n: NodeFacts): Promise<void> {
  try {
    n.info = parseInfo(String(await n.probe.call('INFO')));
  } catch (err) {
    n.infoError = (err as Error).message.split('\n')[0];
  }
}

/** INFO, CONFIG, CLUSTER and TIME of a data node; each failure is kept, none thrown. */
async function collectData(n: NodeFacts): Promise<void> {
  await collectInfo(n);
  const config: Record<string, string> = {};
  try {
    for (const param of CONFIG_PARAMS) {
      Object.assign(config, parseConfigReply(await n.probe.call('CONFIG', 'GET', param)));
    }
    n.config = config;
  } catch (err) {
    n.configError = (err as Error).message.split('\n')[0];
  }
  if (n.info?.cluster_enabled === '1') {
    try {
      n.clusterInfo = parseInfo(String(await n.probe.call('CLUSTER', 'INFO')));
      n.clusterNodes = parseClusterNodes(String(await n.probe.call('CLUSTER', 'NODES')));
    } catch (err) {
      n.clusterError = (err as Error).message.split('\n')[0];
    }
  }
  try {
    const before = Date.now();
    const reply = (await n.probe.call('TIME')) as [string, string];
    const after = Date.now();
    const serverMs = Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
    n.clock = { offsetMs: serverMs - (before + after) / 2, rttMs: after - before };
  } catch {
    // TIME refused (ACL): the clock check says it could not be made.
  }
}

async function askSentinels(
  seeds: NodeFacts[],
  name: string,
): Promise<NonNullable<StoreFacts['sentinel']>> {
  const answers: SentinelAnswer[] = [];
  let replicas: Array<Record<string, string>> = [];
  for (const s of seeds.filter(usable)) {
    try {
      const reply = await s.probe.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name);
      if (Array.isArray(reply) && reply.length === 2) {
        answers.push({
          sentinel: s.label,
          master: { host: String(reply[0]), port: Number(reply[1]) },
        });
        if (replicas.length === 0) {
          replicas = parseSentinelList(await s.probe.call('SENTINEL', 'REPLICAS', name));
        }
      } else {
        answers.push({ sentinel: s.label, error: `does not monitor a master named "${name}"` });
      }
    } catch (err) {
      answers.push({ sentinel: s.label, error: (err as Error).message.split('\n')[0] });
    }
  }
  // The address most sentinels agree on (they can disagree for a moment during a failover).
  const votes = new Map<string, { master: HostPort; n: number }>();
  for (const a of answers) {
    if (!a.master) continue;
    const key = formatEndpoint(a.master);
    votes.set(key, { master: a.master, n: (votes.get(key)?.n ?? 0) + 1 });
  }
  const master = [...votes.values()].sort((x, y) => y.n - x.n)[0]?.master;
  return { answers, master, replicas };
}

/** A node address as Holdfast reaches it (store.redis.natMap: announced -> reachable). */
export function mapNat(settings: RedisSettings, e: HostPort): HostPort {
  return settings.natMap[formatEndpoint(e)] ?? settings.natMap[`${e.host}:${e.port}`] ?? e;
}

function dedupe(list: HostPort[]): HostPort[] {
  const seen = new Map<string, HostPort>();
  for (const e of list) seen.set(formatEndpoint(e), { host: e.host, port: e.port });
  return [...seen.values()];
}

/**
 * A server reached under two addresses (a seed's name and the IP the cluster announces) counts
 * once, as INFO run_id says. The later address is kept: it is the one the cluster view uses.
 */
function sameServerOnce(nodes: NodeFacts[]): NodeFacts[] {
  const seen = new Set<string>();
  const kept = [...nodes].reverse().filter((n) => {
    const id = n.info?.run_id;
    if (!id) return true;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return kept.reverse();
}
