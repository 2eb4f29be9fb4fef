import fc from 'fast-check';
import type { StoredSeries, StoredSession } from '../../../src/store/engine';
import {
  decodeSeries,
  decodeSession,
  encodeSeries,
  encodeSession,
  encodeTouch,
  MalformedRecord,
  OFFSET,
} from '../../../src/store/record-codec';

const hash = (byte: number) => Buffer.alloc(32, byte);
const session: StoredSession = {
  id: 'AAAAAAAAAAAAAAAAAAAAAA',
  userId: 'user-1',
  secretHash: hash(7),
  method: 'oauth',
  createdAt: 1_764_000_000_000,
  lastSeenAt: 1_764_000_060_000,
  expiresAt: 1_764_001_800_000,
  absoluteExpiresAt: 1_764_604_800_000,
  ip: '2001:db8::1',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0',
  credentialVersion: 0,
  seriesId: null,
};

describe('session records', () => {
  it('round-trip every field', () => {
    expect(decodeSession(session.id, encodeSession(session))).toEqual(session);
  });

  it('are compact: fixed 61 bytes, the user id, the IP as 4 or 16 bytes, the device label', () => {
    const size = 61 + session.userId.length + 16 + session.userAgent.length;
    expect(encodeSession(session).length).toBe(size);
    const v4 = { ...session, ip: '203.0.113.7' };
    expect(encodeSession(v4).length).toBe(61 + session.userId.length + 4 + v4.userAgent.length);
  });

  it('fit a typical session in 124 bytes (a 128-byte allocation in Redis)', () => {
    const typical = {
      ...session,
      userId: 'Xk2aY7Qm9vR1sT3uW5zB0c', // 22 characters, as the user stores make them
      ip: '2001:db8:85a3::8a2e:370:7334',
      userAgent: 'Chrome 120 on Windows',
    };
    expect(encodeSession(typical).length).toBeLessThanOrEqual(124);
    expect(encodeSession({ ...typical, ip: '198.51.100.23' }).length).toBe(108);
  });

  it('keep the credential version in as few bytes as it needs: none until the first change', () => {
    const base = encodeSession(session).length;
    for (const [credentialVersion, extra] of [
      [0, 0],
      [1, 1],
      [255, 1],
      [256, 2],
      [65_536, 3],
      [2 ** 32 - 1, 4],
    ]) {
      const s = { ...session, credentialVersion };
      const buf = encodeSession(s);
      expect(buf.length).toBe(base + extra);
      expect(decodeSession(session.id, buf)).toEqual(s);
    }
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN])
      expect(() => encodeSession({ ...session, credentialVersion: bad })).toThrow(
        /credentialVersion/,
      );
  });

  it('carry the remember-me series the session belongs to, behind the device label', () => {
    const s = { ...session, seriesId: 'CCCCCCCCCCCCCCCCCCCCCC', credentialVersion: 7 };
    const buf = encodeSession(s);
    expect(buf.length).toBe(encodeSession(session).length + 1 + 22 + 1);
    expect(decodeSession(session.id, buf)).toEqual(s);
    expect(buf[1] & 0x80).toBe(0x80);
    expect(() => encodeSession({ ...session, seriesId: '' })).toThrow(/seriesId/);
  });

  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['::ffff:7f00:1', '::ffff:127.0.0.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['', ''],
    ['unknown', ''],
    ['1.2.3.4:5678', ''],
    ['[2001:db8::1]', ''],
    ['01.2.3.4', ''],
    ['1.2.3.256', ''],
  ])('store the IP %j as bytes and read it back as %j', (ip, back) => {
    const buf = encodeSession({ ...session, ip });
    expect(buf[OFFSET.uidLength + 1 + session.userId.length]).toBe(
      back === '' ? 0 : back.includes(':') ? 16 : 4,
    );
    expect(decodeSession(session.id, buf).ip).toBe(back);
  });

  it('read IPv6 back in the canonical form URL parsing also gives', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const back = decodeSession(session.id, encodeSession({ ...session, ip })).ip;
        // WHATWG URLs write IPv4-mapped addresses in hex; RFC 5952 (and we) as dotted quad.
        const url = new URL(`http://[${back}]/`).hostname.slice(1, -1);
        expect(url).toBe(new URL(`http://[${ip}]/`).hostname.slice(1, -1));
        if (!back.startsWith('::ffff:') || !back.includes('.')) expect(back).toBe(url);
      }),
    );
  });

  it('cut a long user agent at 255 bytes on a UTF-8 character boundary', () => {
    const ua = 'a' + '€'.repeat(100); // 1 + 300 bytes; '€' is 3 bytes
    const decoded = decodeSession(session.id, encodeSession({ ...session, userAgent: ua }));
    expect(Buffer.byteLength(decoded.userAgent)).toBe(253);
    expect(decoded.userAgent).toBe('a' + '€'.repeat(84));
    expect(decoded.userAgent).not.toContain('\ufffd');
  });

  it('refuse a user id longer than 255 bytes, an unknown method and a bad hash', () => {
    expect(() => encodeSession({ ...session, userId: 'u'.repeat(256) })).toThrow(/userId/);
    expect(() => encodeSession({ ...session, method: 'magic' as never })).toThrow(/method/);
    expect(() => encodeSession({ ...session, secretHash: Buffer.alloc(31) })).toThrow(/32 bytes/);
  });

  it('put the touched deadlines where encodeTouch writes them', () => {
    const buf = encodeSession(session);
    encodeTouch(1_764_000_120_000, 1_764_002_000_000).copy(buf, OFFSET.lastSeenAt);
    expect(decodeSession(session.id, buf)).toEqual({
      ...session,
      lastSeenAt: 1_764_000_120_000,
      expiresAt: 1_764_002_000_000,
    });
    expect(buf.readUIntBE(OFFSET.expiresAt, 6)).toBe(1_764_002_000_000);
    expect(buf[OFFSET.uidLength]).toBe(session.userId.length);
  });

  it.each([
    ['too short', (b: Buffer) => b.subarray(0, 60)],
    ['format 1', (b: Buffer) => Buffer.concat([Buffer.from([1]), b.subarray(1)])],
    ['format 2', (b: Buffer) => Buffer.concat([Buffer.from([2]), b.subarray(1)])],
    ['format 4', (b: Buffer) => Buffer.concat([Buffer.from([4]), b.subarray(1)])],
    [
      'a credential version of 5 bytes',
      (b: Buffer) =>
        Buffer.concat([
          b.subarray(0, 1),
          Buffer.from([b[1] | 0x50]),
          b.subarray(2),
          Buffer.alloc(5),
        ]),
    ],
    [
      'a series flag without a series',
      (b: Buffer) => Buffer.concat([b.subarray(0, 1), Buffer.from([b[1] | 0x80]), b.subarray(2)]),
    ],
    [
      'an empty series id',
      (b: Buffer) =>
        Buffer.concat([
          b.subarray(0, 1),
          Buffer.from([b[1] | 0x80]),
          b.subarray(2),
          Buffer.from([0]),
        ]),
    ],
    [
      'an IP of 5 bytes',
      (b: Buffer) => {
        const at = OFFSET.uidLength + 1 + session.userId.length;
        return Buffer.concat([
          b.subarray(0, at),
          Buffer.from([5]),
          b.subarray(at + 1),
          Buffer.alloc(1),
        ]);
      },
    ],
    ['a format 1 record as written before', () => formatOne(session)],
    [
      'unknown method',
      (b: Buffer) => Buffer.concat([b.subarray(0, 1), Buffer.from([9]), b.subarray(2)]),
    ],
    ['truncated strings', (b: Buffer) => b.subarray(0, b.length - 1)],
    ['trailing bytes', (b: Buffer) => Buffer.concat([b, Buffer.from([0])])],
    ['no user id', (b: Buffer) => Buffer.concat([b.subarray(0, 58), Buffer.from([0, 0, 0])])],
    ['JSON', () => Buffer.from(JSON.stringify({ ...session, padding: 'x'.repeat(40) }))],
  ])('are rejected as malformed: %s', (_name, mangle) => {
    expect(() => decodeSession(session.id, mangle(encodeSession(session)))).toThrow(
      MalformedRecord,
    );
  });
});

/** A session record as format 1 wrote it: the IP as text, the raw user agent. */
function formatOne(s: StoredSession): Buffer {
  const parts = [s.userId, s.ip, s.userAgent].map((x) => Buffer.from(x));
  const buf = Buffer.alloc(61 + parts.reduce((n, p) => n + p.length, 0));
  buf[0] = 1;
  buf[1] = 2; // oauth
  s.secretHash.copy(buf, 2);
  [s.createdAt, s.lastSeenAt, s.expiresAt, s.absoluteExpiresAt].forEach((t, i) =>
    buf.writeUIntBE(t, 34 + 6 * i, 6),
  );
  let o = 58;
  for (const p of parts) {
    buf[o++] = p.length;
    p.copy(buf, o);
    o += p.length;
  }
  return buf;
}

describe('series records', () => {
  const series: StoredSeries = {
    id: 'BBBBBBBBBBBBBBBBBBBBBB',
    userId: 'user-1',
    tokenHash: hash(1),
    previousHash: null,
    rotatedAt: 1_764_000_000_000,
    expiresAt: 1_766_592_000_000,
    credentialVersion: 3,
  };

  it('round-trip with and without a previous hash', () => {
    expect(decodeSeries(series.id, encodeSeries(series))).toEqual(series);
    const rotated = { ...series, previousHash: hash(2) };
    expect(decodeSeries(series.id, encodeSeries(rotated))).toEqual(rotated);
  });

  it('keep the credential version in 4 bytes: a typical series fits in 108 bytes (112 in Redis)', () => {
    const typical = { ...series, userId: 'Xk2aY7Qm9vR1sT3uW5zB0c', credentialVersion: 2 ** 32 - 1 };
    expect(encodeSeries(typical).length).toBe(83 + 22);
    expect(decodeSeries(series.id, encodeSeries(typical))).toEqual(typical);
    expect(() => encodeSeries({ ...series, credentialVersion: -1 })).toThrow(/credentialVersion/);
  });

  it('are rejected when malformed', () => {
    const buf = encodeSeries(series);
    expect(() => decodeSeries(series.id, buf.subarray(0, 83))).toThrow(MalformedRecord);
    expect(() =>
      decodeSeries(series.id, Buffer.concat([Buffer.from([1]), buf.subarray(1)])),
    ).toThrow(MalformedRecord);
    expect(() => decodeSeries(series.id, Buffer.concat([buf, Buffer.from([1])]))).toThrow(
      MalformedRecord,
    );
    expect(() =>
      decodeSeries(series.id, Buffer.concat([Buffer.from([3]), buf.subarray(1)])),
    ).toThrow(MalformedRecord);
  });
});
