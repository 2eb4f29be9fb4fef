import type { HostPort } from '../config';

/** Parsers for what Redis reports about itself: INFO, CLUSTER NODES, SENTINEL replies. */

/** INFO text as a flat field -> value map (section headers dropped). */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return out;
}

/** `slave0:ip=10.0.0.2,port=6379,state=online,offset=1,lag=0` -> its fields. */
export function parseReplicaLines(info: Record<string, string>): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const [key, value] of Object.entries(info)) {
    if (!/^slave\d+$/.test(key)) continue;
    const fields: Record<string, string> = {};
    for (const part of value.split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
    }
    out.push(fields);
  }
  return out;
}

export interface ClusterNodeLine extends HostPort {
  readonly id: string;
  readonly flags: readonly string[];
  readonly master: boolean;
  /** A replica's master id. */
  readonly masterId?: string;
  readonly linkState: string;
  /** Inclusive slot ranges (masters). */
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

/** CLUSTER NODES: `<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...` */
export function parseClusterNodes(text: string): ClusterNodeLine[] {
  const out: ClusterNodeLine[] = [];
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, address, flagText, master, , , , linkState] = fields;
    const hostPort = address.split('@')[0];
    const colon = hostPort.lastIndexOf(':');
    const flags = flagText.split(',');
    const slots: Array<[number, number]> = [];
    for (const range of fields.slice(8)) {
      if (range.startsWith('[')) continue; // importing / migrating markers
      const [from, to] = range.split('-').map(Number);
      slots.push([from, to ?? from]);
    }
    out.push({
      id,
      host: hostPort.slice(0, colon),
      port: Number(hostPort.slice(colon + 1)),
      flags,
      master: flags.includes('master'),
      masterId: master === '-' ? undefined : master,
      linkState,
      slots,
    });
  }
  return out;
}

/** A node that the cluster itself sees as failing or not yet part of it. */
export function isFailing(node: ClusterNodeLine): boolean {
  return node.flags.some(
    (f) => f === 'fail' || f === 'fail?' || f === 'handshake' || f === 'noaddr',
  );
}

export function slotCount(node: ClusterNodeLine): number {
  return node.slots.reduce((n, [from, to]) => n + (to - from + 1), 0);
}

/** SENTINEL REPLICAS reply (a list of flat field/value lists) -> one map per replica. */
export function parseSentinelList(reply: unknown): Array<Record<string, string>> {
  if (!Array.isArray(reply)) return [];
  return reply.map((entry) => {
    const fields: Record<string, string> = {};
    if (Array.isArray(entry)) {
      for (let i = 0; i + 1 < entry.length; i += 2) fields[String(entry[i])] = String(entry[i + 1]);
    }
    return fields;
  });
}

/** `7.0.15` >= `6.2.0`; missing parts count as 0. */
export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const b = minimum.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** CONFIG GET reply (flat list or, with RESP3, a map) -> map. */
export function parseConfigReply(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  } else if (reply && typeof reply === 'object') {
    for (const [k, v] of Object.entries(reply)) out[k] = String(v);
  }
  return out;
}
