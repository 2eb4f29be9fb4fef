import {
  formatToken,
  hashSecret,
  newId,
  newSecret,
  parseToken,
  secretMatches,
} from '../../../src/session/token';

describe('tokens', () => {
  it('are 128-bit ids and 256-bit secrets from the CSPRNG, base64url, all different', () => {
    const ids = new Set(Array.from({ length: 1000 }, newId));
    const secrets = new Set(Array.from({ length: 1000 }, newSecret));
    expect(ids.size).toBe(1000);
    expect(secrets.size).toBe(1000);
    for (const id of ids) expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    for (const s of secrets) expect(Buffer.from(s, 'base64url')).toHaveLength(32);
  });

  it('parse only exact tokens of this deployment', () => {
    const id = newId();
    const secret = newSecret();
    expect(parseToken(formatToken(7, id, secret), 256)).toEqual({ shard: 7, id, secret });
    for (const bad of [
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
    expect(stored).toHaveLength(32);
    expect(secretMatches(secret, stored)).toBe(true);
    expect(secretMatches(newSecret(), stored)).toBe(false);
    expect(secretMatches(secret, Buffer.alloc(16))).toBe(false);
  });
});
