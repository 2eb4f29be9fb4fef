import { isIP } from 'node:net';

/**
 * IP addresses and CIDR blocks as settings and throttling see them. Settings validate
 * `http.trustedProxies` with these at start-up; the auth layer walks X-Forwarded-For with them
 * and the throttle groups addresses with them, so every layer agrees on one canonical form.
 */
export type IpFamily = 'ipv4' | 'ipv6';

export interface Cidr {
  /** Canonical network address text (normalizeIp). */
  readonly address: string;
  readonly prefix: number;
  readonly family: IpFamily;
}

const MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The canonical text of an IP address, or undefined for anything else (a host name, a port,
 * brackets, garbage). IPv6 is lower case and compressed (RFC 5952, via the WHATWG URL parser); an
 * IPv4-mapped address (`::ffff:10.0.0.1`, what a dual-stack socket reports) becomes plain IPv4,
 * so one client never counts as two. An IPv6 zone (`%eth0`) is dropped.
 */
export function normalizeIp(text: string): string | undefined {
  const zone = text.indexOf('%');
  const bare = zone >= 0 ? text.slice(0, zone) : text;
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return undefined;
  let canonical: string;
  try {
    canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const m = MAPPED.exec(canonical);
  if (!m) return canonical;
  const hi = parseInt(m[1], 16);
  const lo = parseInt(m[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function familyOf(ip: string): IpFamily {
  return ip.includes(':') ? 'ipv6' : 'ipv4';
}

/** The eight 16-bit groups of a canonical IPv6 text (normalizeIp output: hex groups only). */
export function ipv6Groups(canonical: string): number[] {
  const gap = canonical.indexOf('::');
  const part = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = part(gap >= 0 ? canonical.slice(0, gap) : canonical);
  const tail = gap >= 0 ? part(canonical.slice(gap + 2)) : [];
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * `10.0.0.0/8`, `fd00::/8`, or a bare address (one host: /32 or /128). An IPv4-mapped IPv6 block
 * (`::ffff:10.0.0.0/104`) is the IPv4 block it maps. Undefined when it is none of these.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addressText = (slash >= 0 ? text.slice(0, slash) : text).trim();
  if (addressText.includes('%')) return undefined;
  const address = normalizeIp(addressText);
  if (!address) return undefined;
  const family = familyOf(address);
  const max = family === 'ipv4' ? 32 : 128;
  const prefixText = slash >= 0 ? text.slice(slash + 1).trim() : undefined;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  let prefix = prefixText === undefined ? max : Number(prefixText);
  if (family === 'ipv4' && isIP(addressText) === 6 && prefixText !== undefined) {
    // Written as IPv4-mapped IPv6: only the mapped range itself converts.
    if (prefix < 96) return undefined;
    prefix -= 96;
  }
  if (prefix > max) return undefined;
  return { address, prefix, family };
}
