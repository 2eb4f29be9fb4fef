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
};

describe('session records', () => {
  it('round-trip every field', () => {
    expect(decodeSession(session.id, encodeSession(session))).toEqual(session);
  });

  it('are compact: fixed 61 bytes plus the three strings', () => {
    const size = 61 + session.userId.length + session.ip.length + session.userAgent.length;
    expect(encodeSession(session).length).toBe(size);
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
    ['wrong version', (b: Buffer) => Buffer.concat([Buffer.from([2]), b.subarray(1)])],
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

describe('series records', () => {
  const series: StoredSeries = {
    id: 'BBBBBBBBBBBBBBBBBBBBBB',
    userId: 'user-1',
    tokenHash: hash(1),
    previousHash: null,
    rotatedAt: 1_764_000_000_000,
    expiresAt: 1_766_592_000_000,
  };

  it('round-trip with and without a previous hash', () => {
    expect(decodeSeries(series.id, encodeSeries(series))).toEqual(series);
    const rotated = { ...series, previousHash: hash(2) };
    expect(decodeSeries(series.id, encodeSeries(rotated))).toEqual(rotated);
  });

  it('are rejected when malformed', () => {
    const buf = encodeSeries(series);
    expect(() => decodeSeries(series.id, buf.subarray(0, 79))).toThrow(MalformedRecord);
    expect(() => decodeSeries(series.id, Buffer.concat([buf, Buffer.from([1])]))).toThrow(
      MalformedRecord,
    );
    expect(() =>
      decodeSeries(series.id, Buffer.concat([Buffer.from([3]), buf.subarray(1)])),
    ).toThrow(MalformedRecord);
  });
});
