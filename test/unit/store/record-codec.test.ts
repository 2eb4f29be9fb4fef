import fc from 'fast-check';
import type { StoredSeries, StoredSession } from '../../../src/store/engine';
import {
  decodeSeries,
  decodeSession,
  encodeSeries,
  encodeSession,
  encodeTouch,
  MalformedRecord,
  SESSION_FORMAT,
  SESSION_FORMATS,
  SESSION_LAYOUT,
  sessionFormatOf,
  touchOffset,
  touchSession,
  type SessionFormat,
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

/** What a record of `format` reads back as: the hash bytes it keeps. */
const readBack = (s: StoredSession, format: SessionFormat): StoredSession => ({
  ...s,
  secretHash: s.secretHash.subarray(0, SESSION_LAYOUT[format].hashLength),
});

describe.each(SESSION_FORMATS)('session records, format %i', (format) => {
  const at = SESSION_LAYOUT[format];
  const encode = (s: StoredSession) => encodeSession(s, format);

  it('round-trip every field (format 4: the first 16 bytes of the hash)', () => {
    const buf = encode(session);
    expect(buf[0]).toBe(format);
    expect(decodeSession(session.id, buf)).toEqual(readBack(session, format));
    // A decoded record encodes back to the same bytes.
    expect(encode(decodeSession(session.id, buf))).toEqual(buf);
  });

  it('are compact: the fixed part, the user id, the IP as 4 or 16 bytes, the device label', () => {
    const size = at.minLength + session.userId.length + 16 + session.userAgent.length;
    expect(encode(session).length).toBe(size);
    const v4 = { ...session, ip: '203.0.113.7' };
    expect(encode(v4).length).toBe(at.minLength + session.userId.length + 4 + v4.userAgent.length);
  });

  it('keep the credential version in as few bytes as it needs: none until the first change', () => {
    const base = encode(session).length;
    for (const [credentialVersion, extra] of [
      [0, 0],
      [1, 1],
      [255, 1],
      [256, 2],
      [65_536, 3],
      [2 ** 32 - 1, 4],
    ]) {
      const s = { ...session, credentialVersion };
      const buf = encode(s);
      expect(buf.length).toBe(base + extra);
      expect(decodeSession(session.id, buf)).toEqual(readBack(s, format));
    }
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN])
      expect(() => encode({ ...session, credentialVersion: bad })).toThrow(/credentialVersion/);
  });

  it('carry the remember-me series the session belongs to, behind the device label', () => {
    const s = { ...session, seriesId: 'CCCCCCCCCCCCCCCCCCCCCC', credentialVersion: 7 };
    const buf = encode(s);
    expect(buf.length).toBe(encode(session).length + 1 + 22 + 1);
    expect(decodeSession(session.id, buf)).toEqual(readBack(s, format));
    expect(buf[1] & 0x80).toBe(0x80);
    expect(() => encode({ ...session, seriesId: '' })).toThrow(/seriesId/);
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
    const buf = encode({ ...session, ip });
    expect(buf[at.uidLength + 1 + session.userId.length]).toBe(
      back === '' ? 0 : back.includes(':') ? 16 : 4,
    );
    expect(decodeSession(session.id, buf).ip).toBe(back);
  });

  it('read IPv6 back in the canonical form URL parsing also gives', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const back = decodeSession(session.id, encode({ ...session, ip })).ip;
        // WHATWG URLs write IPv4-mapped addresses in hex; RFC 5952 (and we) as dotted quad.
        const url = new URL(`http://[${back}]/`).hostname.slice(1, -1);
        expect(url).toBe(new URL(`http://[${ip}]/`).hostname.slice(1, -1));
        if (!back.startsWith('::ffff:') || !back.includes('.')) expect(back).toBe(url);
      }),
    );
  });

  it('cut a long user agent at 255 bytes on a UTF-8 character boundary', () => {
    const ua = 'a' + '€'.repeat(100); // 1 + 300 bytes; '€' is 3 bytes
    const decoded = decodeSession(session.id, encode({ ...session, userAgent: ua }));
    expect(Buffer.byteLength(decoded.userAgent)).toBe(253);
    expect(decoded.userAgent).toBe('a' + '€'.repeat(84));
    expect(decoded.userAgent).not.toContain('\ufffd');
  });

  it('refuse a user id longer than 255 bytes, an unknown method and a bad hash', () => {
    expect(() => encode({ ...session, userId: 'u'.repeat(256) })).toThrow(/userId/);
    expect(() => encode({ ...session, method: 'magic' as never })).toThrow(/method/);
    for (const n of [0, 15, 17, 31, 33])
      expect(() => encode({ ...session, secretHash: Buffer.alloc(n) })).toThrow(/32 bytes/);
  });

  it('put the touched deadlines where encodeTouch writes them (touchOffset)', () => {
    const buf = encode(session);
    expect(touchOffset(buf)).toBe(at.lastSeenAt);
    const touched = touchSession(buf, 1_764_000_120_000, 1_764_002_000_000);
    const copy = Buffer.from(buf);
    encodeTouch(1_764_000_120_000, 1_764_002_000_000).copy(copy, touchOffset(buf));
    expect(touched).toEqual(copy);
    expect(buf).toEqual(encode(session)); // the stored record is not changed under its reader
    expect(decodeSession(session.id, touched)).toEqual({
      ...readBack(session, format),
      lastSeenAt: 1_764_000_120_000,
      expiresAt: 1_764_002_000_000,
    });
    expect(touched.readUIntBE(at.expiresAt, 6)).toBe(1_764_002_000_000);
    expect(touched[at.uidLength]).toBe(session.userId.length);
  });

  it.each([
    ['too short', (b: Buffer) => b.subarray(0, at.minLength - 1)],
    ['empty', () => Buffer.alloc(0)],
    ['format 1', (b: Buffer) => Buffer.concat([Buffer.from([1]), b.subarray(1)])],
    ['format 2', (b: Buffer) => Buffer.concat([Buffer.from([2]), b.subarray(1)])],
    ['format 5', (b: Buffer) => Buffer.concat([Buffer.from([5]), b.subarray(1)])],
    ['format 0', (b: Buffer) => Buffer.concat([Buffer.from([0]), b.subarray(1)])],
    [
      'the other format’s version byte',
      (b: Buffer) => Buffer.concat([Buffer.from([format === 3 ? 4 : 3]), b.subarray(1)]),
    ],
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
        const ipAt = at.uidLength + 1 + session.userId.length;
        return Buffer.concat([
          b.subarray(0, ipAt),
          Buffer.from([5]),
          b.subarray(ipAt + 1),
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
    [
      'no user id',
      (b: Buffer) => Buffer.concat([b.subarray(0, at.uidLength), Buffer.from([0, 0, 0])]),
    ],
    ['JSON', () => Buffer.from(JSON.stringify({ ...session, padding: 'x'.repeat(40) }))],
  ])('are rejected as malformed: %s', (_name, mangle) => {
    expect(() => decodeSession(session.id, mangle(encode(session)))).toThrow(MalformedRecord);
  });
});

describe('session record formats', () => {
  const typical = {
    ...session,
    userId: 'Xk2aY7Qm9vR1sT3uW5zB0c', // 22 characters, as the user stores make them
    ip: '198.51.100.23',
    userAgent: 'Chrome 120 on Windows',
  };

  it('write format 4 on a fresh store', () => {
    expect(SESSION_FORMAT).toBe(4);
    expect(SESSION_FORMATS).toEqual([3, 4]);
    expect(encodeSession(session)).toEqual(encodeSession(session, 4));
  });

  it('fit a typical session in 108 bytes in format 3 (112 in Redis), 92 in format 4 (96)', () => {
    expect(encodeSession(typical, 3).length).toBe(108);
    expect(encodeSession(typical, 4).length).toBe(92);
    // IPv6 still fits a 128-byte allocation in format 3, 112 in format 4.
    const v6 = { ...typical, ip: '2001:db8:85a3::8a2e:370:7334' };
    expect(encodeSession(v6, 3).length).toBe(120);
    expect(encodeSession(v6, 4).length).toBe(104);
  });

  it('lay format 3 out at the documented offsets', () => {
    const s = { ...typical, seriesId: 'SSSS', credentialVersion: 258 };
    const buf = encodeSession(s, 3);
    const expected = Buffer.concat([
      Buffer.from([3, 0x80 | (2 << 4) | 2]), // version, flags: series, 2 version bytes, oauth
      s.secretHash, // 2..33
      u48(s.createdAt), // 34
      u48(s.lastSeenAt), // 40
      u48(s.expiresAt), // 46
      u48(s.absoluteExpiresAt), // 52
      Buffer.from([22]), // 58
      Buffer.from(s.userId),
      Buffer.from([4, 198, 51, 100, 23]),
      Buffer.from([21]),
      Buffer.from(s.userAgent),
      Buffer.from([4]),
      Buffer.from('SSSS'),
      Buffer.from([1, 2]),
    ]);
    expect(buf).toEqual(expected);
    expect(decodeSession(s.id, expected)).toEqual(s);
    expect(touchOffset(expected)).toBe(40);
    expect(sessionFormatOf(expected)).toBe(3);
  });

  it('lay format 4 out at the documented offsets, keeping the first 16 bytes of the hash', () => {
    const secretHash = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1));
    const s = { ...typical, secretHash, seriesId: 'SSSS', credentialVersion: 258 };
    const buf = encodeSession(s, 4);
    const expected = Buffer.concat([
      Buffer.from([4, 0x80 | (2 << 4) | 2]),
      u48(s.createdAt), // 2
      u48(s.lastSeenAt), // 8
      u48(s.expiresAt), // 14
      u48(s.absoluteExpiresAt), // 20
      secretHash.subarray(0, 16), // 26..41
      Buffer.from([22]), // 42
      Buffer.from(s.userId),
      Buffer.from([4, 198, 51, 100, 23]),
      Buffer.from([21]),
      Buffer.from(s.userAgent),
      Buffer.from([4]),
      Buffer.from('SSSS'),
      Buffer.from([1, 2]),
    ]);
    expect(buf).toEqual(expected);
    expect(buf.includes(secretHash.subarray(16))).toBe(false);
    expect(decodeSession(s.id, expected)).toEqual({
      ...s,
      secretHash: Buffer.from(Array.from({ length: 16 }, (_, i) => i + 1)),
    });
    expect(touchOffset(expected)).toBe(8);
    expect(sessionFormatOf(expected)).toBe(4);
    // Below its fixed part it is no record; at it (empty uid aside) it has a format.
    expect(sessionFormatOf(expected.subarray(0, 44))).toBeNull();
    expect(sessionFormatOf(expected.subarray(0, 45))).toBe(4);
  });

  it('take 16 hash bytes in format 4 only: format 3 needs the whole SHA-256', () => {
    const short = { ...session, secretHash: hash(7).subarray(0, 16) };
    expect(encodeSession(short, 4)).toEqual(encodeSession(session, 4));
    expect(() => encodeSession(short, 3)).toThrow(/32 bytes/);
    expect(() => encodeSession(session, 5 as SessionFormat)).toThrow(/format/);
  });

  it('refuse to touch a record of no known format', () => {
    expect(() => touchOffset(Buffer.from([9, ...Buffer.alloc(80)]))).toThrow(MalformedRecord);
    expect(() => touchSession(Buffer.alloc(10, 4), 1, 2)).toThrow(MalformedRecord);
  });
});

function u48(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
}

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
