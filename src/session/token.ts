import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Opaque tokens `<shard>.<id>.<secret>`: a 128-bit random id (the public session id) and a 256-bit
 * random secret, both from the CSPRNG, base64url. The store keeps SHA-256(secret) only, so a copy
 * of Redis lets nobody log in. Remember-me cookies use the same shape (series id + token).
 */
export interface ParsedToken {
  readonly shard: number;
  readonly id: string;
  readonly secret: string;
}

const ID_BYTES = 16;
const SECRET_BYTES = 32;
const TOKEN = /^(\d{1,5})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export function newId(): string {
  return randomBytes(ID_BYTES).toString('base64url');
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
