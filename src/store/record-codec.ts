import type { AuthMethod, EngineStats, SessionFormat, StoredSeries, StoredSession } from './engine';
import { bytesToIp, ipToBytes } from './ip-bytes';

/**
 * Packed binary records: about a third of the bytes of JSON (docs/performance.md), and fixed
 * offsets let Lua update timestamps with SETRANGE and read the owner without parsing JSON.
 * The Lua scripts rely on these offsets (0-based here, 1-based in Lua); change them together.
 *
 * Session, format 4 (docs/adr/001-session-record-layout.md, ADR 265), written on a fresh store:
 *   0 version (4) | 1 flags (as format 3) | 2 createdAt | 8 lastSeenAt | 14 expiresAt
 *   20 absoluteExpiresAt (all u48 big-endian ms) | 26..41 the first 16 bytes of SHA-256(secret)
 *   | 42 uid length | uid | ip length | ip | ua length | ua | [series length | series] when bit 7
 *   | credentialVersion (n bytes). Fixed part 45 bytes: a typical record (as below) is 92 bytes,
 *   96 in Redis. 16 bytes of the hash of a 256-bit random secret still leave 2^128 work to forge
 *   a cookie from a copy of Redis; the timestamps come first so their offsets (touch: 8) do not
 *   depend on the hash's length.
 * Session, format 3 (ADR 040, ADR 041), still read and written (an operator switches a store
 *   to format 4):
 *   0 version (3) | 1 flags: method code (bits 0-3), credential-version byte count n (bits 4-6),
 *   has series (bit 7) | 2..33 SHA-256(secret) | 34 createdAt | 40 lastSeenAt | 46 expiresAt
 *   52 absoluteExpiresAt (all u48 big-endian ms) | 58 uid length | uid (UTF-8)
 *   | ip length (0, 4 or 16) | ip (binary: ip-bytes.ts) | ua length | ua (UTF-8, at most 255 bytes)
 *   | [series id length | series id] when bit 7 is set | credentialVersion (n bytes big-endian)
 *   `ua` holds what the caller gives as userAgent: the device label of session/device.ts (at most
 *   48 bytes), not the raw header. Fixed part 61 bytes; a typical record (22-char user id, IPv4,
 *   "Chrome 120 on Windows", credential version 0, no series) is 108 bytes, so Redis allocates
 *   112 bytes for the value (a value of n bytes takes n + 4 with its sds header, and the classes
 *   are 96, 112, 128, 160): the version costs no byte until a user's first credential change and
 *   one byte up to 255 changes; a remember-me session carries its series id (23 bytes more).
 *   Format 2 (no credential version, no series link) and format 1 read as malformed: counted,
 *   treated as no session.
 * Series, format 2:
 *   0 version | 1..32 token hash | 33..64 previous hash | 65 has previous | 66 rotatedAt | 72 expiresAt
 *   78 credentialVersion (u32) | 82 uid length | uid
 */
export type { SessionFormat } from './engine';
/** The session formats this version reads and writes, oldest first. */
export const SESSION_FORMATS: readonly SessionFormat[] = [3, 4];
/** The newest session format: what a fresh store writes. */
export const SESSION_FORMAT: SessionFormat = 4;
export const SERIES_FORMAT = 2;

interface SessionLayout {
  /** Where the stored hash starts and how many of SHA-256's bytes it keeps. */
  readonly hash: number;
  readonly hashLength: number;
  readonly createdAt: number;
  /** lastSeenAt then expiresAt: where encodeTouch's 12 bytes go. */
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly uidLength: number;
  /** The fixed part: everything up to uidLength plus the three length bytes of uid, ip, ua. */
  readonly minLength: number;
}

/** Byte offsets (0-based) of each session format; includes/session-record.lua mirrors them. */
export const SESSION_LAYOUT: Readonly<Record<SessionFormat, SessionLayout>> = {
  3: {
    hash: 2,
    hashLength: 32,
    createdAt: 34,
    lastSeenAt: 40,
    expiresAt: 46,
    absoluteExpiresAt: 52,
    uidLength: 58,
    minLength: 61,
  },
  4: {
    hash: 26,
    hashLength: 16,
    createdAt: 2,
    lastSeenAt: 8,
    expiresAt: 14,
    absoluteExpiresAt: 20,
    uidLength: 42,
    minLength: 45,
  },
};

const METHODS: readonly AuthMethod[] = ['password', 'remember', 'oauth', 'rotation'];
const HASH_LEN = 32;
const MAX_SHORT = 255;
/** Credential versions are stored in at most 4 bytes (bits 4-6 of the flags byte count them). */
const MAX_VERSION = 0xffffffff;
const SERIES_FLAG = 0x80;

/** Why a record could not be decoded; the caller counts it and treats it as absent. */
export class MalformedRecord extends Error {}

/** Decodes, or counts a malformed record in `stats` and treats it as absent (never a throw). */
export function decodeOrCount<T>(stats: EngineStats, decode: () => T): T | null {
  try {
    return decode();
  } catch (err) {
    if (!(err instanceof MalformedRecord)) throw err;
    stats.malformed++;
    return null;
  }
}

/**
 * `s.secretHash` is the whole SHA-256 (32 bytes); format 4 keeps its first 16, and also takes
 * those 16 alone, so a decoded format 4 session encodes back to the same bytes.
 */
export function encodeSession(s: StoredSession, format: SessionFormat = SESSION_FORMAT): Buffer {
  const at = SESSION_LAYOUT[format] as SessionLayout | undefined;
  if (!at) throw new TypeError(`session format must be one of ${SESSION_FORMATS.join(', ')}`);
  const uid = shortBytes(s.userId, 'userId', true);
  const ip = ipToBytes(s.ip);
  const ua = shortBytes(s.userAgent, 'userAgent');
  const series = s.seriesId === null ? null : shortBytes(s.seriesId, 'seriesId', true);
  if (series !== null && series.length === 0) throw new TypeError('seriesId is empty');
  const version = versionBytes(s.credentialVersion);
  const seriesLength = series === null ? 0 : 1 + series.length;
  const buf = Buffer.alloc(
    at.minLength + uid.length + ip.length + ua.length + seriesLength + version.length,
  );
  buf[0] = format;
  buf[1] = methodCode(s.method) | (version.length << 4) | (series === null ? 0 : SERIES_FLAG);
  const secretHash = s.secretHash.length === at.hashLength ? s.secretHash : hash(s.secretHash);
  secretHash.copy(buf, at.hash, 0, at.hashLength);
  buf.writeUIntBE(s.createdAt, at.createdAt, 6);
  buf.writeUIntBE(s.lastSeenAt, at.lastSeenAt, 6);
  buf.writeUIntBE(s.expiresAt, at.expiresAt, 6);
  buf.writeUIntBE(s.absoluteExpiresAt, at.absoluteExpiresAt, 6);
  let o = at.uidLength;
  for (const part of series === null ? [uid, ip, ua] : [uid, ip, ua, series]) {
    buf[o++] = part.length;
    part.copy(buf, o);
    o += part.length;
  }
  version.copy(buf, o);
  return buf;
}

/**
 * Reads format 3 or 4. `secretHash` is what the record keeps: all 32 bytes of SHA-256 (format 3)
 * or its first 16 (format 4); token.ts secretMatches compares either.
 */
export function decodeSession(id: string, buf: Buffer): StoredSession {
  const at = layoutOf(buf);
  const method = METHODS[buf[1] & 0x0f];
  if (!method) throw new MalformedRecord(`unknown method code ${buf[1] & 0x0f}`);
  const versionLength = (buf[1] >> 4) & 0x07;
  if (versionLength > 4) throw new MalformedRecord('credential version longer than 4 bytes');
  const reader = shortReader(buf, at.uidLength);
  const userId = reader();
  if (!userId) throw new MalformedRecord('session record has no user id');
  const ip = bytesToIp(reader.bytes());
  if (ip === null) throw new MalformedRecord('session record has an IP of neither 4 nor 16 bytes');
  const userAgent = reader();
  const seriesId = buf[1] & SERIES_FLAG ? reader() : null;
  if (seriesId === '') throw new MalformedRecord('session record has an empty series id');
  if (reader.offset() + versionLength !== buf.length)
    throw new MalformedRecord('session record has trailing bytes');
  return {
    id,
    userId,
    method,
    secretHash: Buffer.from(buf.subarray(at.hash, at.hash + at.hashLength)),
    createdAt: buf.readUIntBE(at.createdAt, 6),
    lastSeenAt: buf.readUIntBE(at.lastSeenAt, 6),
    expiresAt: buf.readUIntBE(at.expiresAt, 6),
    absoluteExpiresAt: buf.readUIntBE(at.absoluteExpiresAt, 6),
    ip,
    userAgent,
    credentialVersion: versionLength ? buf.readUIntBE(reader.offset(), versionLength) : 0,
    seriesId,
  };
}

/** The format of a session record, or null when it is none this version reads. */
export function sessionFormatOf(buf: Buffer): SessionFormat | null {
  const format = buf[0] as SessionFormat;
  const at = SESSION_LAYOUT[format] as SessionLayout | undefined;
  return at && buf.length >= at.minLength ? format : null;
}

/** The 12 bytes written at the record's lastSeenAt offset by a renewal: lastSeenAt then expiresAt. */
export function encodeTouch(lastSeenAt: number, expiresAt: number): Buffer {
  const buf = Buffer.alloc(12);
  buf.writeUIntBE(lastSeenAt, 0, 6);
  buf.writeUIntBE(expiresAt, 6, 6);
  return buf;
}

/** Where encodeTouch's bytes go in this record (40 in format 3, 8 in format 4). */
export function touchOffset(buf: Buffer): number {
  return layoutOf(buf).lastSeenAt;
}

/**
 * A copy of a stored record renewed in place, as touch-5.lua's SETRANGE does: every other byte,
 * the stored hash included, stays as written (a format 4 record cannot be re-encoded from its
 * decoded form, which keeps 16 bytes of the hash).
 */
export function touchSession(buf: Buffer, lastSeenAt: number, expiresAt: number): Buffer {
  const next = Buffer.from(buf);
  encodeTouch(lastSeenAt, expiresAt).copy(next, touchOffset(buf));
  return next;
}

export function encodeSeries(s: StoredSeries): Buffer {
  const uid = shortBytes(s.userId, 'userId', true);
  const buf = Buffer.alloc(83 + uid.length);
  buf[0] = SERIES_FORMAT;
  hash(s.tokenHash).copy(buf, 1);
  if (s.previousHash) {
    hash(s.previousHash).copy(buf, 33);
    buf[65] = 1;
  }
  buf.writeUIntBE(s.rotatedAt, 66, 6);
  buf.writeUIntBE(s.expiresAt, 72, 6);
  buf.writeUInt32BE(checkedVersion(s.credentialVersion), 78);
  buf[82] = uid.length;
  uid.copy(buf, 83);
  return buf;
}

export function decodeSeries(id: string, buf: Buffer): StoredSeries {
  if (buf.length < 84 || buf[0] !== SERIES_FORMAT)
    throw new MalformedRecord('malformed remember-me series');
  const reader = shortReader(buf, 82);
  const userId = reader();
  if (!userId || reader.offset() !== buf.length)
    throw new MalformedRecord('malformed remember-me series');
  return {
    id,
    userId,
    tokenHash: Buffer.from(buf.subarray(1, 33)),
    previousHash: buf[65] === 1 ? Buffer.from(buf.subarray(33, 65)) : null,
    rotatedAt: buf.readUIntBE(66, 6),
    expiresAt: buf.readUIntBE(72, 6),
    credentialVersion: buf.readUInt32BE(78),
  };
}

function checkedVersion(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > MAX_VERSION)
    throw new TypeError(`credentialVersion must be an integer in 0..${MAX_VERSION}, got ${v}`);
  return v;
}

/** The credential version in as few big-endian bytes as it needs: none for 0. */
function versionBytes(v: number): Buffer {
  checkedVersion(v);
  let n = 0;
  while (n < 4 && v >= 2 ** (8 * n)) n++;
  const buf = Buffer.alloc(n);
  if (n) buf.writeUIntBE(v, 0, n);
  return buf;
}

function methodCode(m: AuthMethod): number {
  const code = METHODS.indexOf(m);
  if (code < 0) throw new TypeError(`unknown auth method ${m}`);
  return code;
}

function layoutOf(buf: Buffer): SessionLayout {
  const format = sessionFormatOf(buf);
  if (format !== null) return SESSION_LAYOUT[format];
  if (SESSION_LAYOUT[buf[0] as SessionFormat])
    throw new MalformedRecord(`session record of ${buf.length} bytes is too short`);
  throw new MalformedRecord(
    `session record format ${buf[0]} is not one of ${SESSION_FORMATS.join(', ')}`,
  );
}

function hash(h: Buffer): Buffer {
  if (h.length !== HASH_LEN)
    throw new TypeError(`a token hash is ${HASH_LEN} bytes, got ${h.length}`);
  return h;
}

/** UTF-8, cut at 255 bytes on a character boundary (user agents can be long; ids may not be). */
function shortBytes(value: string, field: string, strict = false): Buffer {
  const b = Buffer.from(value, 'utf8');
  if (b.length <= MAX_SHORT) return b;
  if (strict) throw new TypeError(`${field} is longer than ${MAX_SHORT} bytes`);
  let end = MAX_SHORT;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--;
  return b.subarray(0, end);
}

/** Reads length-prefixed fields: as UTF-8 text (call) or as bytes (`bytes()`). */
function shortReader(
  buf: Buffer,
  start: number,
): (() => string) & { bytes(): Buffer; offset(): number } {
  let o = start;
  const bytes = () => {
    if (o >= buf.length) throw new MalformedRecord('record ends early');
    const len = buf[o++];
    if (o + len > buf.length) throw new MalformedRecord('record ends early');
    o += len;
    return buf.subarray(o - len, o);
  };
  const read = () => bytes().toString('utf8');
  return Object.assign(read, { bytes, offset: () => o });
}
