import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

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

const DOTTED_TAIL = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/;

/**
 * An IPv6 address that node:net accepted (no zone), parsed by ipaddr.js. A dotted IPv4 tail is
 * written as its two hex groups first: ipaddr.js reads the deprecated IPv4-compatible form
 * `::a.b.c.d` as IPv4-mapped (`::ffff:a.b.c.d`), which is another address.
 */
export function parseIpv6(address: string): ipaddr.IPv6 {
  const m = DOTTED_TAIL.exec(address);
  if (!m) return ipaddr.IPv6.parse(address);
  const [a, b, c, d] = m.slice(1).map(Number);
  const groups = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  return ipaddr.IPv6.parse(address.slice(0, m.index) + groups);
}

/**
 * The canonical text of an IP address, or undefined for anything else (a host name, a port,
 * brackets, garbage). IPv6 is lower case and compressed (RFC 5952, ipaddr.js); an IPv4-mapped
 * address (`::ffff:10.0.0.1`, what a dual-stack socket reports) becomes plain IPv4, so one client
 * never counts as two. An IPv6 zone (`%eth0`) is dropped. node:net decides what is an address at
 * all: it takes dotted-quad IPv4 only, where ipaddr.js would also take `127.1` or `0x7f.0.0.1`.
 */
export function normalizeIp(text: string): string | undefined {
  const zone = text.indexOf('%');
  const bare = zone >= 0 ? text.slice(0, zone) : text;
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return undefined;
  const address = parseIpv6(bare);
  return address.isIPv4MappedAddress()
    ? address.toIPv4Address().toString()
    : address.toRFC5952String();
}

export function familyOf(ip: string): IpFamily {
  return ip.includes(':') ? 'ipv6' : 'ipv4';
}

/** The eight 16-bit groups of an IPv6 address (normalizeIp output). */
export function ipv6Groups(canonical: string): number[] {
  return [...parseIpv6(canonical).parts];
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
