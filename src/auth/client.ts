import { BlockList } from 'node:net';
import type { Request } from '@hapi/hapi';
import { normalizeIp, parseCidr } from '../config/addresses';
import type { ClientInfo } from '../session';
import { deviceLabel } from '../session';

/**
 * The proxies whose X-Forwarded-For is believed (settings http.trustedProxies, CIDR blocks
 * validated at start-up). Built once per server.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    let size = 0;
    for (const text of cidrs) {
      const c = parseCidr(text);
      if (!c) throw new RangeError(`http.trustedProxies: ${JSON.stringify(text)} is not a CIDR`);
      this.list.addSubnet(c.address, c.prefix, c.family);
      size++;
    }
    this.size = size;
  }

  /** `ip` is canonical (normalizeIp). */
  trusts(ip: string): boolean {
    return this.size > 0 && this.list.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4');
  }
}

/** `203.0.113.7`, `203.0.113.7:4711`, `[2001:db8::1]:443` or `2001:db8::1` -> the address. */
function hopAddress(hop: string): string | undefined {
  const text = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) return normalizeIp(bracketed[1]);
  const ported = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(text);
  return normalizeIp(ported ? ported[1] : text);
}

/**
 * The client's address: the first untrusted hop from the right. Each trusted proxy appends the
 * address it received the request from, so reading X-Forwarded-For right to left, starting from
 * the socket's peer, every address is vouched for by the trusted hop to its right; the first one
 * outside `trusted` is the client, and anything left of it was written by the client (spoofable).
 * A peer that is not trusted means XFF is ignored altogether. An entry that is not an address
 * stops the walk at the last trusted hop. Every address comes back canonical, IPv4-mapped IPv6
 * as IPv4.
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | undefined,
  trusted: TrustedProxies,
): string {
  let ip = normalizeIp(peer) ?? '';
  if (!ip || !forwardedFor || !trusted.trusts(ip)) return ip;
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]);
    if (!hop) break;
    ip = hop;
    if (!trusted.trusts(hop)) break;
  }
  return ip;
}

/**
 * Where a request comes from: the address (clientAddress) and the User-Agent as a short device
 * label ("Firefox 130 on Linux", session/device.ts), which is what the session list shows and all
 * a session record stores.
 */
export function clientInfo(request: Request, trusted: TrustedProxies): ClientInfo {
  const xff = request.headers['x-forwarded-for'];
  const ip = clientAddress(
    request.info.remoteAddress ?? '',
    Array.isArray(xff) ? xff.join(',') : typeof xff === 'string' ? xff : undefined,
    trusted,
  );
  const ua = request.headers['user-agent'];
  return { ip, userAgent: deviceLabel(typeof ua === 'string' ? ua : undefined) };
}
