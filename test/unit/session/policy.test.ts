import { loadSettings } from '../../../src/config';
import { SessionPolicy } from '../../../src/session';
import type { StoredSession } from '../../../src/store/engine';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

function policy(session: object = {}) {
  const settings = loadSettings({ env: { NODE_ENV: 'test' }, overrides: { session } });
  return { p: new SessionPolicy(settings.session), s: settings.session };
}

function stored(overrides: Partial<StoredSession>): StoredSession {
  return {
    id: 'x'.repeat(22),
    userId: 'user-1',
    secretHash: Buffer.alloc(32),
    method: 'password',
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 30 * MIN,
    absoluteExpiresAt: T0 + 7 * 24 * 60 * MIN,
    ip: '203.0.113.7',
    userAgent: 'Firefox 130 on Linux',
    credentialVersion: 0,
    seriesId: null,
    ...overrides,
  };
}

describe('SessionPolicy', () => {
  test('a new session ends after idleTtl of inactivity, and at absoluteTtl whatever happens', () => {
    const { p } = policy({ idleTtl: '30m', absoluteTtl: '8h' });
    expect(p.initial(T0)).toEqual({ expiresAt: T0 + 30 * MIN, absoluteExpiresAt: T0 + 480 * MIN });
    // An idle timeout as long as the absolute lifetime: the first deadline is the absolute one.
    const same = policy({ idleTtl: '8h', absoluteTtl: '8h', renewAfter: '1h' }).p;
    expect(same.initial(T0)).toEqual({
      expiresAt: T0 + 480 * MIN,
      absoluteExpiresAt: T0 + 480 * MIN,
    });
  });

  test('renews only once renewAfter has passed since the last renewal', () => {
    const { p } = policy({ idleTtl: '30m', renewAfter: '5m' });
    const s = stored({});
    expect(p.renewal(s, T0)).toBeNull();
    expect(p.renewal(s, T0 + 5 * MIN - 1)).toBeNull();
    expect(p.renewal(s, T0 + 5 * MIN)).toBe(T0 + 35 * MIN);
    expect(p.renewal(s, T0 + 20 * MIN)).toBe(T0 + 50 * MIN);
  });

  test('never renews past the absolute deadline, and writes nothing once the idle deadline is there', () => {
    const { p } = policy({ idleTtl: '30m', renewAfter: '5m' });
    const absoluteExpiresAt = T0 + 60 * MIN;
    // 20 minutes left: the renewal stops at the absolute deadline.
    const near = stored({ lastSeenAt: T0 + 30 * MIN, expiresAt: T0 + 55 * MIN, absoluteExpiresAt });
    expect(p.renewal(near, T0 + 40 * MIN)).toBe(absoluteExpiresAt);
    // Already ending at the absolute deadline: a write would change nothing, so none is due.
    const done = stored({
      lastSeenAt: T0 + 40 * MIN,
      expiresAt: absoluteExpiresAt,
      absoluteExpiresAt,
    });
    expect(p.renewal(done, T0 + 50 * MIN)).toBeNull();
  });

  test('exposes the remember-me and per-user limits it was given', () => {
    const { p, s } = policy({ rememberTtl: '14d', rememberGrace: '10s', maxPerUser: 7 });
    expect(p.rememberTtl).toBe(s.rememberTtl);
    expect(p.rememberTtl).toBe(14 * 24 * 60 * MIN);
    expect(p.rememberGrace).toBe(10_000);
    expect(p.maxPerUser).toBe(7);
  });
});
