import { isIP } from 'node:net';

/**
 * IP addresses as 4 or 16 bytes in session records (a third of the text form's bytes), and back
 * to text. What is not an IP address (empty, garbage, a bracketed or ported form) is stored as
 * no bytes and reads back as ''. An IPv6 zone (`fe80::1%eth0`) is dropped: it means nothing to
 * another node. IPv6 reads back in its canonical text form (RFC 5952: lower case, the longest run
 * of two or more zero groups as `::`), an IPv4-mapped address as `::ffff:a.b.c.d`.
 */
const NONE = Buffer.alloc(0);

export function ipToBytes(ip: string): Buffer {
  const zone = ip.indexOf('%');
  const address = zone >= 0 ? ip.slice(0, zone) : ip;
  switch (isIP(address)) {
    case 4:
      return Buffer.from(address.split('.').map(Number));
    case 6:
      return ipv6Bytes(address);
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
    case 16:
      return ipv6Text(b);
    default:
      return null;
  }
}

/** 16 bytes of an address that net.isIP accepted as IPv6 (zone removed). */
function ipv6Bytes(address: string): Buffer {
  const gap = address.indexOf('::');
  const head = groups(gap >= 0 ? address.slice(0, gap) : address);
  const tail = gap >= 0 ? groups(address.slice(gap + 2)) : [];
  const zeros = 8 - head.length - tail.length;
  if (zeros < 0 || (gap < 0 && zeros !== 0)) return NONE;
  const out = Buffer.alloc(16);
  [...head, ...new Array<number>(zeros).fill(0), ...tail].forEach((g, i) =>
    out.writeUInt16BE(g, i * 2),
  );
  return out;
}

function groups(part: string): number[] {
  if (part === '') return [];
  const out: number[] = [];
  for (const g of part.split(':')) {
    if (g.includes('.')) {
      const [a, b, c, d] = g.split('.').map(Number);
      out.push((a << 8) | b, (c << 8) | d);
    } else {
      out.push(parseInt(g, 16));
    }
  }
  return out;
}

function ipv6Text(b: Buffer): string {
  const g = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  // The longest run of zero groups (the first of equal runs), if it spans two groups or more.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
