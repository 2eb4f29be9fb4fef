import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Single-use account tokens: the secret in an emailed link (password reset; email verification
 * uses kind `verify`). A token is `<id>.<secret>`: a 128-bit random id that locates the record and
 * a 256-bit random secret, both from the CSPRNG, base64url (the shape of session tokens without
 * the shard). The store keeps SHA-256(secret) only, so a copy of Redis holds no usable link, and
 * compares it in constant time. Each record lives under its kind, so a token of one kind is never
 * found as another. A user has at most one outstanding token per kind: issuing a new one ends the
 * old, and invalidate() ends it (a later login, a password change). Using it is a compare-and-
 * delete of the very record that was checked: of two concurrent uses, one wins (ADR 140).
 */
export type AccountTokenKind = 'reset' | 'verify';

export const ACCOUNT_TOKEN_KINDS: readonly AccountTokenKind[] = ['reset', 'verify'];

/** What a valid token stands for. */
export interface AccountTokenRecord {
  readonly kind: AccountTokenKind;
  readonly userId: string;
  /** The user's credential version when the token was issued (a later change voids it). */
  readonly credentialVersion: number;
  readonly expiresAt: number;
  /**
   * SHA-256 (base64url) of what the token was issued for, when the issuer bound it (a verify
   * token: the address it proves); compare with bindingOf(value).
   */
  readonly binding?: string;
}

/** The digest a bound token carries for `value` (the value itself is never stored). */
export const bindingOf = (value: string): string =>
  createHash('sha256').update(value).digest('base64url');

export interface IssuedAccountToken {
  /** The secret to put in the link: shown once, never stored, never logged. */
  readonly token: string;
  readonly expiresAt: number;
}

/** Key-value storage the tokens need (memory or Redis): three single-key operations. */
export interface TokenBackend {
  get(key: string): Promise<string | null>;
  /** Writes `value` to expire after `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Deletes `key` only while it holds exactly `value`, atomically: true for the one caller that did. */
  deleteIf(key: string, value: string): Promise<boolean>;
  del(key: string): Promise<void>;
}

const ID_BYTES = 16;
const SECRET_BYTES = 32;
const TOKEN = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

const hashOf = (secret: string): Buffer => createHash('sha256').update(secret).digest();

interface Found {
  readonly key: string;
  readonly raw: string;
  readonly record: AccountTokenRecord;
}

export class AccountTokens {
  constructor(
    private readonly backend: TokenBackend,
    private readonly prefix: string,
    private readonly clock: () => number = Date.now,
  ) {}

  // Keys hold the random id or the user id, never the secret or its hash.
  private tokenKey(kind: AccountTokenKind, id: string): string {
    return `{${this.prefix}:k:${kind}:${id}}`;
  }
  private userKey(kind: AccountTokenKind, userId: string): string {
    return `{${this.prefix}:ku:${kind}:${userId}}`;
  }

  /** A new token for the user, ending the one they had of this kind. */
  async issue(
    kind: AccountTokenKind,
    userId: string,
    credentialVersion: number,
    ttlMs: number,
    /** Binds the token to this value (e.g. the address a verify token proves); stored hashed. */
    bindTo?: string,
  ): Promise<IssuedAccountToken> {
    if (!(ttlMs > 0)) throw new RangeError(`token lifetime must be positive, got ${ttlMs}`);
    await this.invalidate(kind, userId);
    const id = randomBytes(ID_BYTES).toString('base64url');
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const expiresAt = this.clock() + ttlMs;
    // The binding rides in the version field (`<version>~<digest>`): the user id stays last, so a
    // record without one reads as before.
    const version =
      bindTo === undefined ? `${credentialVersion}` : `${credentialVersion}~${bindingOf(bindTo)}`;
    const raw = [expiresAt, version, hashOf(secret).toString('base64url'), userId].join('|');
    await this.backend.set(this.tokenKey(kind, id), raw, ttlMs);
    await this.backend.set(this.userKey(kind, userId), id, ttlMs);
    return { token: `${id}.${secret}`, expiresAt };
  }

  /** The record of a valid token, without using it (null: unknown, wrong kind, tampered, expired). */
  async check(kind: AccountTokenKind, token: unknown): Promise<AccountTokenRecord | null> {
    return (await this.find(kind, token))?.record ?? null;
  }

  /**
   * Uses a token: its record when it was valid and this call was the one that used it; null
   * otherwise (nothing changes then).
   */
  async consume(kind: AccountTokenKind, token: unknown): Promise<AccountTokenRecord | null> {
    const found = await this.find(kind, token);
    if (!found || !(await this.backend.deleteIf(found.key, found.raw))) return null;
    const id = found.key.slice(found.key.lastIndexOf(':') + 1, -1);
    await this.backend.deleteIf(this.userKey(kind, found.record.userId), id);
    return found.record;
  }

  /** Ends the user's outstanding token of this kind, if any. */
  async invalidate(kind: AccountTokenKind, userId: string): Promise<void> {
    const pointer = this.userKey(kind, userId);
    const id = await this.backend.get(pointer);
    if (id === null) return;
    await this.backend.del(this.tokenKey(kind, id));
    await this.backend.deleteIf(pointer, id);
  }

  private async find(kind: AccountTokenKind, token: unknown): Promise<Found | null> {
    if (typeof token !== 'string' || !ACCOUNT_TOKEN_KINDS.includes(kind)) return null;
    // Anchored, fixed-length parts: anything else fails within a few characters.
    const m = TOKEN.exec(token);
    if (!m) return null;
    const key = this.tokenKey(kind, m[1]);
    const raw = await this.backend.get(key);
    if (raw === null) return null;
    const parts = raw.split('|');
    if (parts.length < 4) return null;
    const [expires, versionField, hash] = parts;
    const [version, binding] = versionField.split('~');
    const stored = Buffer.from(hash, 'base64url');
    const presented = hashOf(m[2]);
    if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) return null;
    const expiresAt = Number(expires);
    // The deadline is checked on every read, not only by the store's TTL.
    if (!(expiresAt > this.clock())) return null;
    return {
      key,
      raw,
      record: {
        kind,
        userId: parts.slice(3).join('|'),
        credentialVersion: Number(version),
        expiresAt,
        ...(binding === undefined ? {} : { binding }),
      },
    };
  }
}

/** Tokens in this process (development, tests, the memory store). */
export class MemoryTokenBackend implements TokenBackend {
  private readonly entries = new Map<string, { value: string; dropAt: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  async get(key: string): Promise<string | null> {
    return this.read(key);
  }

  /** Synchronous, so deleteIf reads and deletes in one turn of the event loop (atomic). */
  private read(key: string): string | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (e.dropAt <= this.clock()) {
      this.entries.delete(key);
      return null;
    }
    return e.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, dropAt: this.clock() + ttlMs });
  }

  async deleteIf(key: string, value: string): Promise<boolean> {
    if (this.read(key) !== value) return false;
    this.entries.delete(key);
    return true;
  }

  async del(key: string): Promise<void> {
    this.entries.delete(key);
  }
}
