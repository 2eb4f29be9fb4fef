import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque tokens `<shard>.<id>.<secret>`: a 128-bit (format 4: 96-bit) random id (the public
 * session id) and a 256-bit random secret, both from the CSPRNG, base64url. The store keeps
 * SHA-256(secret) only (format 4: its first 16 bytes), so a copy of Redis lets nobody log in.
 * Remember-me cookies use the same shape (series id + token).
 */
export interface ParsedToken {
  readonly shard: number;
  readonly id: string;
  readonly secret: string;
}

const SECRET_BYTES = 32;
// The id is 22 chars (16 bytes, formats up to 3) or 16 (12 bytes, format 4): both live side by
// side for the lifetime of older sessions. Still fixed lengths, so a wrong shape fails early.
const TOKEN = /^(\d{1,5})\.([A-Za-z0-9_-]{16}(?:[A-Za-z0-9_-]{6})?)\.([A-Za-z0-9_-]{43})$/;
/** A session id as the routes accept it (revoke one session): either length, nothing else. */
export const SESSION_ID = /^[A-Za-z0-9_-]{16}(?:[A-Za-z0-9_-]{6})?$/;

/**
 * A session or series id of `bytes` random bytes, base64url: 16 (22 chars) up to format 3; format
 * 4 passes 12 (exactly 16 chars, stored as 12 raw bytes in the user index; keys.ts ID_BYTES): ids
 * are public and only need to be unique, 96 bits is plenty; the 256-bit secret authenticates.
 */
export function newId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export function formatToken(shard: number, id: string, secret: string): string {
  return `${shard}.${id}.${secret}`;
}

/**
 * Null for anything that is not exactly a token of this deployment (wrong shape or shard). The
 * anchored pattern of fixed-length parts fails within a few characters on anything else, so an
 * oversized cookie costs no more than a short one.
 */
export function parseToken(value: unknown, shards: number): ParsedToken | null {
  if (typeof value !== 'string') return null;
  const m = TOKEN.exec(value);
  if (!m) return null;
  const shard = Number(m[1]);
  if (shard >= shards) return null;
  return { shard, id: m[2], secret: m[3] };
}

export function hashSecret(secret: string): Buffer {
  // One-shot: no Hash object per request (every request hashes its cookie's secret, ADR 250).
  return hash('sha256', secret, 'buffer');
}

/** Bytes of SHA-256(secret) a format 4 session record keeps (record-codec.ts). */
const STORED_PREFIX = 16;

/**
 * Constant-time comparison of a presented secret with a stored hash: the whole SHA-256 (session
 * format 3) or its first 16 bytes (format 4). Any other length never matches, an empty one
 * included.
 */
export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const presented = hashSecret(secret);
  const n = storedHash.length;
  if (n !== presented.length && n !== STORED_PREFIX) return false;
  return timingSafeEqual(presented.subarray(0, n), storedHash);
}
