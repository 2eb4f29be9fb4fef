import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { parseIpv6 } from '../config/addresses';

/**
 * IP addresses as 4 or 16 bytes in session records (a third of the text form's bytes), and back
 * to text (ipaddr.js). What is not an IP address (empty, garbage, a bracketed or ported form) is stored as
 * no bytes and reads back as ''. An IPv6 zone (`fe80::1%eth0`) is dropped: it means nothing to
 * another node. IPv6 reads back in its canonical text form (RFC 5952: lower case, the longest run
 * of two or more zero groups as `::`), an IPv4-mapped address as `::ffff:a.b.c.d`.
 */
const NONE = Buffer.alloc(0);

export function ipToBytes(ip: string): Buffer {
  const zone = ip.indexOf('%');
  const address = zone >= 0 ? ip.slice(0, zone) : ip;
  // node:net decides what is an address (dotted-quad IPv4 only); ipaddr.js converts it.
  switch (isIP(address)) {
    case 4:
      return Buffer.from(ipaddr.IPv4.parse(address).toByteArray());
    case 6:
      return Buffer.from(parseIpv6(address).toByteArray());
    default:
      return NONE;
  }
}

/** The text form of 0, 4 or 16 bytes; null for any other length. */
export function bytesToIp(b: Buffer): string | null {
  switch (b.length) {
    case 0:
      return '';
    case 4:
      return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
    case 16: {
      const address = new ipaddr.IPv6([...Array(8).keys()].map((i) => b.readUInt16BE(i * 2)));
      return address.isIPv4MappedAddress()
        ? `::ffff:${address.toIPv4Address().toString()}`
        : address.toRFC5952String();
    }
    default:
      return null;
  }
}
