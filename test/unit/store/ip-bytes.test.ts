/**
 * Addresses as 4 or 16 bytes and back. The IPv6 text is checked against the WHATWG URL parser's
 * canonical form (RFC 5952) on random addresses with long zero runs, so the text a session list
 * shows is the one every other tool prints.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { bytesToIp, ipToBytes } from '../../../src/store/ip-bytes';

/** 16 random bytes with random groups zeroed, so runs of zeros of every length and place occur. */
function randomV6(): Buffer {
  const b = randomBytes(16);
  for (let i = 0; i < 8; i++) if (randomInt(3) > 0) b.writeUInt16BE(0, i * 2);
  return b;
}

function isMapped(b: Buffer): boolean {
  return b.subarray(0, 10).every((x) => x === 0) && b.readUInt16BE(10) === 0xffff;
}

describe('ip-bytes', () => {
  it('IPv4 is 4 bytes and reads back as written', () => {
    expect([...ipToBytes('203.0.113.7')]).toEqual([203, 0, 113, 7]);
    expect(bytesToIp(ipToBytes('203.0.113.7'))).toBe('203.0.113.7');
    expect(bytesToIp(ipToBytes('0.0.0.0'))).toBe('0.0.0.0');
  });

  it('IPv6 is 16 bytes and reads back in RFC 5952 form (2000 random addresses, as URL writes them)', () => {
    for (let n = 0; n < 2000; n++) {
      const b = randomV6();
      if (isMapped(b)) continue;
      const text = bytesToIp(b) as string;
      expect({ text, url: new URL(`http://[${text}]/`).hostname.slice(1, -1) }).toEqual({
        text,
        url: text,
      });
      expect(ipToBytes(text).equals(b)).toBe(true);
    }
  });

  it('reads any address written with a dotted IPv4 tail as the same 16 bytes (2000 random ones)', () => {
    for (let n = 0; n < 2000; n++) {
      const b = randomV6();
      const head = Array.from({ length: 6 }, (_, i) => b.readUInt16BE(i * 2).toString(16));
      const text = `${head.join(':')}:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
      // The same address compressed as URL writes it (its `::` may swallow part of the head).
      const compressed = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      expect({ text, bytes: ipToBytes(text).toString('hex') }).toEqual({
        text,
        bytes: b.toString('hex'),
      });
      expect(ipToBytes(compressed).equals(b)).toBe(true);
    }
  });

  it('canonicalises what it reads: case, leading zeros, the longest zero run (the first of equal ones)', () => {
    expect(bytesToIp(ipToBytes('2001:0DB8:0000:0000:0001:0000:0000:0001'))).toBe(
      '2001:db8::1:0:0:1',
    );
    expect(bytesToIp(ipToBytes('2001:db8:0:1:0:0:0:1'))).toBe('2001:db8:0:1::1');
    expect(bytesToIp(ipToBytes('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(bytesToIp(ipToBytes('::'))).toBe('::');
    expect(bytesToIp(ipToBytes('::1'))).toBe('::1');
  });

  it('an IPv4-mapped address reads back as ::ffff:a.b.c.d; a zone is dropped', () => {
    expect(bytesToIp(ipToBytes('::ffff:10.0.0.1'))).toBe('::ffff:10.0.0.1');
    expect(bytesToIp(ipToBytes('::FFFF:0a00:0001'))).toBe('::ffff:10.0.0.1');
    expect(bytesToIp(ipToBytes('fe80::1%eth0'))).toBe('fe80::1');
  });

  it('the deprecated IPv4-compatible form keeps its own bytes (not read as IPv4-mapped)', () => {
    expect([...ipToBytes('::1.2.3.4')]).toEqual([...Array(12).fill(0), 1, 2, 3, 4]);
    expect(bytesToIp(ipToBytes('::0.0.0.0'))).toBe('::');
    expect(bytesToIp(ipToBytes('::1.2.3.4'))).toBe('::102:304');
  });

  it('what is not an address is no bytes and reads back as empty; other lengths are null', () => {
    for (const text of [
      '',
      'localhost',
      '[::1]',
      '10.0.0.1:80',
      '1.2.3',
      '127.1',
      '0x7f.0.0.1',
      ':::',
    ]) {
      expect({ text, bytes: ipToBytes(text).length }).toEqual({ text, bytes: 0 });
    }
    expect(bytesToIp(Buffer.alloc(0))).toBe('');
    expect(bytesToIp(Buffer.alloc(5))).toBeNull();
  });
});
