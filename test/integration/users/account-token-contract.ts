/**
 * The contract of single-use account tokens (ADR 140): one suite, run over the memory backend
 * (unit) and the Redis backend on a cluster (integration). The backend is the real one; `writes`
 * observes what reaches it (a pass-through, not a mock), to prove only a hash is stored.
 */
import { createHash } from 'node:crypto';
import { AccountTokens, TokenBackend } from '../../../src/users';

export interface TokenSetup {
  readonly backend: TokenBackend;
  readonly prefix: string;
}

/** Records every value written, then writes it to the real backend. */
class Observed implements TokenBackend {
  readonly writes: string[] = [];
  constructor(private readonly inner: TokenBackend) {}
  get(key: string) {
    return this.inner.get(key);
  }
  set(key: string, value: string, ttlMs: number) {
    this.writes.push(key, value);
    return this.inner.set(key, value, ttlMs);
  }
  deleteIf(key: string, value: string) {
    return this.inner.deleteIf(key, value);
  }
  del(key: string) {
    return this.inner.del(key);
  }
}

let seq = 0;
const user = () => `u${process.pid}x${Date.now()}x${++seq}`;
const TTL = 60_000;

export function accountTokenContract(name: string, make: () => TokenSetup): void {
  describe(`account tokens (${name})`, () => {
    const clock = { now: Date.now() };
    let tokens: AccountTokens;
    let observed: Observed;
    beforeAll(() => {
      const { backend, prefix } = make();
      observed = new Observed(backend);
      tokens = new AccountTokens(observed, prefix, () => clock.now);
    });

    test('a token is <128-bit id>.<256-bit secret> from the CSPRNG, and each one differs', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const { token } = await tokens.issue('reset', user(), 0, TTL);
        expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
        expect(Buffer.from(token.split('.')[0], 'base64url')).toHaveLength(16);
        expect(Buffer.from(token.split('.')[1], 'base64url')).toHaveLength(32);
        seen.add(token.split('.')[0]).add(token.split('.')[1]);
      }
      expect(seen.size).toBe(40);
    });

    test('only SHA-256 of the secret is stored: no value or key written holds the secret', async () => {
      const id = user();
      observed.writes.length = 0;
      const { token } = await tokens.issue('reset', id, 3, TTL);
      const secret = token.split('.')[1];
      const written = observed.writes.join('\n');
      expect(written).not.toContain(secret);
      expect(written).toContain(createHash('sha256').update(secret).digest('base64url'));
    });

    test('check tells what a token stands for; consume uses it exactly once', async () => {
      const id = user();
      const issued = await tokens.issue('reset', id, 7, TTL);
      const expected = {
        kind: 'reset',
        userId: id,
        credentialVersion: 7,
        expiresAt: clock.now + TTL,
      };
      expect(issued.expiresAt).toBe(clock.now + TTL);
      expect(await tokens.check('reset', issued.token)).toEqual(expected);
      expect(await tokens.check('reset', issued.token)).toEqual(expected);
      expect(await tokens.consume('reset', issued.token)).toEqual(expected);
      expect(await tokens.consume('reset', issued.token)).toBeNull();
      expect(await tokens.check('reset', issued.token)).toBeNull();
    });

    test('of many concurrent uses exactly one wins', async () => {
      const { token } = await tokens.issue('reset', user(), 0, TTL);
      const results = await Promise.all(
        Array.from({ length: 12 }, () => tokens.consume('reset', token)),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    });

    test('a tampered token is refused and leaves the real one usable', async () => {
      const { token } = await tokens.issue('reset', user(), 0, TTL);
      const [id, secret] = token.split('.');
      const flip = (s: string, i: number) =>
        s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      for (const bad of [
        `${id}.${flip(secret, 0)}`,
        `${id}.${flip(secret, 42)}`,
        `${flip(id, 5)}.${secret}`,
        `${id}.${secret}x`,
        `${id}${secret}`,
        `${id}.${secret}`.toUpperCase(),
        '',
        'x'.repeat(10_000),
      ]) {
        expect(await tokens.consume('reset', bad)).toBeNull();
      }
      for (const odd of [undefined, null, 42, { token }, [token]])
        expect(await tokens.consume('reset', odd)).toBeNull();
      expect(await tokens.consume('reset', token)).not.toBeNull();
    });

    test('kinds are separate: a reset token is never a verification token', async () => {
      const id = user();
      const reset = await tokens.issue('reset', id, 0, TTL);
      const verify = await tokens.issue('verify', id, 0, TTL);
      expect(await tokens.consume('verify', reset.token)).toBeNull();
      expect(await tokens.consume('reset', verify.token)).toBeNull();
      expect(await tokens.consume('other' as unknown as 'reset', reset.token)).toBeNull();
      expect((await tokens.consume('reset', reset.token))?.kind).toBe('reset');
      expect((await tokens.consume('verify', verify.token))?.kind).toBe('verify');
    });

    test('a token expires at its deadline, checked on read', async () => {
      const { token } = await tokens.issue('reset', user(), 0, TTL);
      const start = clock.now;
      try {
        clock.now = start + TTL - 1;
        expect(await tokens.check('reset', token)).not.toBeNull();
        clock.now = start + TTL;
        expect(await tokens.check('reset', token)).toBeNull();
        expect(await tokens.consume('reset', token)).toBeNull();
      } finally {
        clock.now = start;
      }
    });

    test('a new token ends the previous one of the same kind; another kind stays', async () => {
      const id = user();
      const first = await tokens.issue('reset', id, 0, TTL);
      const verify = await tokens.issue('verify', id, 0, TTL);
      const second = await tokens.issue('reset', id, 0, TTL);
      expect(await tokens.check('reset', first.token)).toBeNull();
      expect(await tokens.check('reset', second.token)).not.toBeNull();
      expect(await tokens.check('verify', verify.token)).not.toBeNull();
    });

    test("invalidate ends a user's outstanding token of one kind, and no other user's", async () => {
      const a = user();
      const b = user();
      const ta = await tokens.issue('reset', a, 0, TTL);
      const va = await tokens.issue('verify', a, 0, TTL);
      const tb = await tokens.issue('reset', b, 0, TTL);
      await tokens.invalidate('reset', a);
      await tokens.invalidate('reset', 'nobody-at-all');
      expect(await tokens.consume('reset', ta.token)).toBeNull();
      expect(await tokens.check('verify', va.token)).not.toBeNull();
      expect((await tokens.consume('reset', tb.token))?.userId).toBe(b);
      // Used tokens leave nothing to invalidate; a fresh one after it works.
      await tokens.invalidate('reset', b);
      const again = await tokens.issue('reset', a, 0, TTL);
      expect((await tokens.consume('reset', again.token))?.userId).toBe(a);
    });

    test('a lifetime that is not positive is refused before anything is written', async () => {
      await expect(tokens.issue('reset', user(), 0, 0)).rejects.toThrow(RangeError);
      await expect(tokens.issue('reset', user(), 0, Number.NaN)).rejects.toThrow(RangeError);
    });
  });
}
