import { createHash, randomBytes } from 'node:crypto';
import type { RedisSettings } from '../../src/config/settings';
import type { StoredSeries, StoredSession } from '../../src/store/engine';
import { hashSecret, newId, newSecret } from '../../src/session/token';
import { SESSION_FORMAT, SESSION_LAYOUT, type SessionFormat } from '../../src/store/record-codec';

export const MINUTE = 60_000;
/** A realistic user agent (60 characters), as in the memory budget of docs/performance.md. */
export const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Fi';

let users = 0;
/** A user id no other test uses. */
export function newUserId(): string {
  return `user-${process.pid}-${++users}-${randomBytes(3).toString('hex')}`;
}

/** A prefix no other test (or earlier run) uses, so counts start from zero. */
export function newPrefix(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

export function session(
  userId: string,
  now: number,
  overrides: Partial<StoredSession> = {},
): StoredSession & { secret: string } {
  const secret = newSecret();
  return {
    id: newId(),
    userId,
    secretHash: hashSecret(secret),
    method: 'password',
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + 7 * 24 * 60 * MINUTE,
    ip: '203.0.113.7',
    userAgent: UA,
    credentialVersion: 0,
    seriesId: null,
    secret,
    ...overrides,
  };
}

/** The fields the engine stores (the test-only `secret` dropped). */
export function stored(s: StoredSession & { secret?: string }): StoredSession {
  const copy: StoredSession & { secret?: string } = { ...s };
  delete copy.secret;
  return copy;
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function series(
  userId: string,
  now: number,
  token: string,
  overrides: Partial<StoredSeries> = {},
): StoredSeries {
  return {
    id: newId(),
    userId,
    tokenHash: sha256(token),
    previousHash: null,
    rotatedAt: now,
    expiresAt: now + 30 * 24 * 60 * MINUTE,
    credentialVersion: 0,
    ...overrides,
  };
}

/** RedisSettings for tests: short timeouts so a dead server fails a test quickly. */
export function redisSettings(overrides: Partial<RedisSettings> = {}): RedisSettings {
  return {
    mode: 'standalone',
    nodes: [],
    sentinelName: 'mymaster',
    tls: false,
    natMap: {},
    dnsServers: [],
    rediscoverInterval: 0,
    keyPrefix: newPrefix(),
    shards: 16,
    commandTimeout: 2000,
    connectTimeout: 2000,
    durability: { replicas: 0, timeout: 100 },
    require: {
      persistence: 'any',
      replicasPerMaster: 0,
      evictionPolicies: ['noeviction'],
      minVersion: '6.2.0',
    },
    ...overrides,
  };
}

/** The bytes of SHA-256(secret) a session record of `format` keeps (all 32, or the first 16). */
export function storedHash(secret: string, format: SessionFormat = SESSION_FORMAT): Buffer {
  return sha256(secret).subarray(0, SESSION_LAYOUT[format].hashLength);
}

/** What an engine reads back of a session it wrote in `format`: the stored part of the hash. */
export function storedAs(
  s: StoredSession & { secret?: string },
  format: SessionFormat = SESSION_FORMAT,
): StoredSession {
  const hashLength = SESSION_LAYOUT[format].hashLength;
  return { ...stored(s), secretHash: Buffer.from(s.secretHash.subarray(0, hashLength)) };
}

/**
 * The session format an engine writes: its `sessionFormat` once engines carry one, else the
 * newest (what an engine without the setting writes).
 */
export function formatOf(engine: object): SessionFormat {
  const own = (engine as { sessionFormat?: SessionFormat }).sessionFormat;
  return own ?? SESSION_FORMAT;
}
