import { createHash } from 'node:crypto';
import {
  formatToken,
  hashSecret,
  newId,
  newSecret,
  parseToken,
  secretMatches,
} from '../../../src/session/token';
import { expectRandom } from '../../support/randomness';

describe('tokens', () => {
  it('are 128-bit ids and 256-bit secrets from the CSPRNG, base64url, all different', () => {
    const ids = Array.from({ length: 1000 }, newId);
    const secrets = Array.from({ length: 1000 }, newSecret);
    expect(ids.filter((id) => !/^[A-Za-z0-9_-]{22}$/.test(id))).toEqual([]);
    expect(secrets.filter((s) => !/^[A-Za-z0-9_-]{43}$/.test(s))).toEqual([]);
    // Distinct, bit-balanced, neighbours unrelated: a counter or a clock fails this.
    expectRandom(
      ids.map((id) => Buffer.from(id, 'base64url')),
      128,
    );
    expectRandom(
      secrets.map((s) => Buffer.from(s, 'base64url')),
      256,
    );
  });

  it('format 4 ids are 96 bits: exactly 16 base64url chars, from the CSPRNG, all different', () => {
    const ids = Array.from({ length: 1000 }, () => newId(12));
    expect(ids.filter((id) => !/^[A-Za-z0-9_-]{16}$/.test(id))).toEqual([]);
    expect(ids.map((id) => Buffer.from(id, 'base64url').length)).toEqual(ids.map(() => 12));
    expectRandom(
      ids.map((id) => Buffer.from(id, 'base64url')),
      96,
    );
  });

  it('an id and the secret issued with it share nothing (no reused or derived buffer)', () => {
    const seq = Array.from({ length: 300 }, () => [
      Buffer.from(newId(), 'base64url'),
      Buffer.from(newSecret(), 'base64url').subarray(0, 16),
    ]).flat();
    expectRandom(seq, 128);
  });

  it('parse only exact tokens of this deployment', () => {
    const id = newId();
    const secret = newSecret();
    expect(parseToken(formatToken(7, id, secret), 256)).toEqual({ shard: 7, id, secret });
    // Format 4's 16-char ids and older 22-char ones are both tokens (they live side by side).
    const compact = newId(12);
    expect(parseToken(formatToken(7, compact, secret), 256)).toEqual({
      shard: 7,
      id: compact,
      secret,
    });
    for (const bad of [
      // Every id length but 16 and 22 is refused.
      ...[0, 1, 15, 17, 18, 19, 20, 21, 23, 32].map((n) => formatToken(7, 'A'.repeat(n), secret)),
      formatToken(7, `${compact.slice(0, 15)}.`, secret),
      formatToken(7, `${id.slice(0, 21)}+`, secret),
      formatToken(256, id, secret), // shard outside the deployment
      `7.${id}.${secret}x`,
      `7.${id}`,
      `07a.${id}.${secret}`,
      `7.${id}.${secret.slice(0, 42)}!`,
      ` 7.${id}.${secret}`,
      'x'.repeat(5000),
      42,
      undefined,
    ]) {
      expect(parseToken(bad, 256)).toBeNull();
    }
  });

  it('compare a secret with its stored SHA-256', () => {
    const secret = newSecret();
    const stored = hashSecret(secret);
    // Exactly SHA-256 of the cookie text, computed here independently: a reversible transform or
    // a truncated digest fails.
    expect(stored).toEqual(createHash('sha256').update(secret, 'utf8').digest());
    expect(stored.toString('hex')).not.toContain(Buffer.from(secret, 'base64url').toString('hex'));
    expect(secretMatches(secret, stored)).toBe(true);
    expect(secretMatches(newSecret(), stored)).toBe(false);
    expect(secretMatches(secret, Buffer.alloc(16))).toBe(false);
    expect(secretMatches(secret, Buffer.concat([stored, Buffer.alloc(1)]))).toBe(false);
    // One flipped bit anywhere in the stored hash fails: the whole digest is compared.
    for (const i of [0, 15, 16, 31]) {
      const flipped = Buffer.from(stored);
      flipped[i] ^= 1;
      expect(secretMatches(secret, flipped)).toBe(false);
    }
  });

  it('compare a secret with the first 16 bytes of its SHA-256 (session format 4)', () => {
    const secret = newSecret();
    const prefix = hashSecret(secret).subarray(0, 16);
    expect(secretMatches(secret, prefix)).toBe(true);
    expect(secretMatches(newSecret(), prefix)).toBe(false);
    // The first 16 bytes, not any other 16: the last half of the digest does not match.
    expect(secretMatches(secret, hashSecret(secret).subarray(16))).toBe(false);
    for (const i of [0, 7, 15]) {
      const flipped = Buffer.from(prefix);
      flipped[i] ^= 1;
      expect(secretMatches(secret, flipped)).toBe(false);
    }
  });

  it('never match a stored hash of any other length, an empty or short one above all', () => {
    const secret = newSecret();
    const digest = hashSecret(secret);
    for (const n of [0, 1, 8, 15, 17, 24, 31])
      expect(secretMatches(secret, digest.subarray(0, n))).toBe(false);
    expect(secretMatches(secret, Buffer.concat([digest, digest]))).toBe(false);
  });
});
