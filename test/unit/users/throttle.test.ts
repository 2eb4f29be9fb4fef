import { loadSettings } from '../../../src/config';
import { LoginThrottle, MemoryThrottleStore } from '../../../src/users';
import type { ThrottleRule, ThrottleStore } from '../../../src/users';

const S = 1000;

/** The memory store, keeping a list of the keys it was asked about. */
class KeyLog implements ThrottleStore {
  readonly keys: string[] = [];
  readonly inner = new MemoryThrottleStore();
  attempt(key: string, rule: ThrottleRule, now: number): Promise<number> {
    this.keys.push(key);
    return this.inner.attempt(key, rule, now);
  }
  release(key: string): Promise<void> {
    this.keys.push(key);
    return this.inner.release(key);
  }
  reset(key: string): Promise<void> {
    this.keys.push(key);
    return this.inner.reset(key);
  }
}

function setup(overrides: object = {}) {
  const settings = loadSettings({
    env: { NODE_ENV: 'test' },
    overrides: {
      throttle: {
        accountFailures: 3,
        addressFailures: 5,
        baseDelay: '10s',
        maxDelay: '40s',
        window: '1h',
        ...overrides,
      },
    },
  });
  const clock = { now: 1_700_000_000_000 };
  const store = new KeyLog();
  const throttle = new LoginThrottle(store, settings.throttle, () => clock.now);
  return { clock, store, throttle };
}

describe('LoginThrottle', () => {
  test('an account waits baseDelay after accountFailures attempts, doubling up to maxDelay', async () => {
    const { throttle, clock } = setup();
    for (let i = 0; i < 3; i++) {
      expect(await throttle.begin('ana@example.com', `10.0.0.${i}`)).toEqual({ allowed: true });
    }
    expect(await throttle.begin('ana@example.com', '10.0.1.1')).toEqual({
      allowed: false,
      scope: 'account',
      retryAfterMs: 10 * S,
    });
    clock.now += 4 * S;
    expect(await throttle.begin('ana@example.com', '10.0.1.1')).toEqual({
      allowed: false,
      scope: 'account',
      retryAfterMs: 6 * S,
    });
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const d = await throttle.begin('ana@example.com', '10.0.1.1');
      if (d.allowed) throw new Error('a throttled account was let through');
      waits.push(d.retryAfterMs);
      clock.now += d.retryAfterMs;
      expect(await throttle.begin('ana@example.com', '10.0.1.1')).toEqual({ allowed: true });
    }
    expect(waits).toEqual([6 * S, 20 * S, 40 * S, 40 * S]);
    // Another account is not affected.
    expect(await throttle.begin('bob@example.com', '10.0.1.1')).toEqual({ allowed: true });
  });

  test('an address waits after addressFailures attempts over any accounts; the refused account is not charged', async () => {
    const { throttle } = setup();
    for (let i = 0; i < 5; i++) {
      expect(await throttle.begin(`user${i}@example.com`, '198.51.100.9')).toEqual({
        allowed: true,
      });
    }
    const refused = await throttle.begin('victim@example.com', '198.51.100.9');
    expect(refused).toEqual({ allowed: false, scope: 'address', retryAfterMs: 10 * S });
    // The victim's account budget is whole: an attacker's address cannot lock it.
    for (let i = 0; i < 3; i++) {
      expect(await throttle.begin('victim@example.com', `203.0.113.${i}`)).toEqual({
        allowed: true,
      });
    }
    expect((await throttle.begin('victim@example.com', '203.0.113.99')).allowed).toBe(false);
    // Other addresses are not affected.
    expect(await throttle.begin('someone@example.com', '198.51.100.10')).toEqual({
      allowed: true,
    });
  });

  test('a success resets the account and gives the address its attempt back', async () => {
    const { throttle } = setup();
    for (let i = 0; i < 2; i++) await throttle.begin('ana@example.com', '198.51.100.9');
    expect(await throttle.begin('ana@example.com', '198.51.100.9')).toEqual({ allowed: true });
    await throttle.succeeded('ana@example.com', '198.51.100.9');
    for (let i = 0; i < 3; i++) {
      expect(await throttle.begin('ana@example.com', '203.0.113.1')).toEqual({ allowed: true });
    }
    // The address counted 3 attempts and one success: 2 left of 5 before it waits.
    expect((await throttle.begin('x@example.com', '198.51.100.9')).allowed).toBe(true);
    expect((await throttle.begin('y@example.com', '198.51.100.9')).allowed).toBe(true);
    expect((await throttle.begin('z@example.com', '198.51.100.9')).allowed).toBe(true);
    expect(await throttle.begin('w@example.com', '198.51.100.9')).toMatchObject({
      allowed: false,
      scope: 'address',
    });
  });

  test('keys hold digests, never the email or the address', async () => {
    const { throttle, store } = setup();
    await throttle.begin('ana@example.com', '198.51.100.9');
    await throttle.succeeded('ana@example.com', '198.51.100.9');
    expect(new Set(store.keys).size).toBe(2);
    for (const k of store.keys) {
      expect(k).toMatch(/^[ai]:[A-Za-z0-9_-]{32}$/);
      expect(k).not.toContain('ana');
      expect(k).not.toContain('198.51');
    }
    // The same email and address always map to the same keys (shared by every node).
    const again = setup();
    await again.throttle.begin('ana@example.com', '198.51.100.9');
    expect(again.store.keys).toEqual(store.keys.slice(0, 2));
  });
});

describe('MemoryThrottleStore', () => {
  const rule = { limit: 2, baseDelay: 1000, maxDelay: 8000, window: 60000 };

  test('forgets a key after its window of inactivity', async () => {
    const s = new MemoryThrottleStore();
    await s.attempt('k', rule, 0);
    await s.attempt('k', rule, 0);
    expect(await s.attempt('k', rule, 500)).toBe(500);
    expect(await s.attempt('k', rule, 59_999)).toBe(0); // third attempt counted
    expect(await s.attempt('k', rule, 59_999)).toBe(2000); // past the limit: doubled
    expect(await s.attempt('k', rule, 59_999 + 60_000)).toBe(0); // window passed: afresh
    expect(await s.attempt('k', rule, 59_999 + 60_000)).toBe(0);
    expect(await s.attempt('k', rule, 59_999 + 60_000)).toBe(1000);
  });

  test('keeps a key at least as long as its longest delay', async () => {
    const s = new MemoryThrottleStore();
    const long = { limit: 1, baseDelay: 5000, maxDelay: 20000, window: 1000 };
    await s.attempt('k', long, 0);
    expect(await s.attempt('k', long, 0)).toBe(5000);
    await s.attempt('k', long, 5000); // second counted attempt
    expect(await s.attempt('k', long, 5000)).toBe(10000);
    expect(await s.attempt('k', long, 14_999)).toBe(1); // well past `window`, still waiting
  });

  test('release never counts below zero; reset forgets the key', async () => {
    const s = new MemoryThrottleStore();
    await s.release('k');
    await s.release('k');
    await s.attempt('k', rule, 0);
    await s.release('k');
    await s.release('k');
    expect(await s.attempt('k', rule, 0)).toBe(0);
    expect(await s.attempt('k', rule, 0)).toBe(0);
    expect(await s.attempt('k', rule, 0)).toBe(1000);
    await s.reset('k');
    expect(await s.attempt('k', rule, 0)).toBe(0);
  });
});
