import { AuthEvents } from '../../../src/accounts';
import { loadSettings } from '../../../src/config';
import { StoreUnavailableError } from '../../../src/errors';
import { createMetrics, Metrics } from '../../../src/metrics';
import { SessionPolicy, SessionService } from '../../../src/session';
import { ExpirySweeper } from '../../../src/store/expiry-sweeper';
import { KeyLayout } from '../../../src/store/keys';
import { MemoryEngine } from '../../../src/store/memory/memory-engine';
import { find, parseExposition, valueOf } from '../../support/exposition';

const client = { ip: '203.0.113.7', userAgent: 'Firefox 130 on Linux' };
const SHARDS = 16;

function setup(liveClock?: { now: number }, sessionClock: () => number = Date.now) {
  const settings = loadSettings({ env: { NODE_ENV: 'test' } });
  const metrics = createMetrics({
    defaultMetrics: false,
    liveCounts: liveClock ? { ttlMs: 5000, maxStaleMs: 60000, clock: () => liveClock.now } : {},
  });
  const memory = new MemoryEngine(SHARDS);
  const engine = metrics.instrumentEngine(memory);
  const sessions = new SessionService(
    engine,
    new KeyLayout('hf', SHARDS),
    new SessionPolicy(settings.session),
    sessionClock,
  );
  metrics.observeSessions(sessions);
  return { metrics, sessions, memory, engine };
}

async function scrape(metrics: Metrics) {
  return parseExposition(await metrics.scrape());
}

describe('Metrics', () => {
  it('exports the session counters by method, reason and result', async () => {
    const { metrics, sessions } = setup();
    const a = await sessions.create('alice', client, 'password');
    await sessions.create('bob', client, 'password');
    await sessions.create('carol', client, 'oauth');
    await sessions.authenticate(a.token);
    await sessions.authenticate(undefined);
    await sessions.authenticate('not-a-token');
    await sessions.revoke('alice', a.session.id, 'logout');

    const exp = await scrape(metrics);
    expect(valueOf(exp, 'holdfast_sessions_created_total', { method: 'password' })).toBe(2);
    expect(valueOf(exp, 'holdfast_sessions_created_total', { method: 'oauth' })).toBe(1);
    expect(valueOf(exp, 'holdfast_sessions_created_total', { method: 'remember' })).toBe(0);
    expect(valueOf(exp, 'holdfast_sessions_revoked_total', { reason: 'logout' })).toBe(1);
    expect(valueOf(exp, 'holdfast_sessions_revoked_total', { reason: 'theft' })).toBe(0);
    expect(valueOf(exp, 'holdfast_auth_decisions_total', { result: 'ok' })).toBe(1);
    expect(valueOf(exp, 'holdfast_auth_decisions_total', { result: 'missing' })).toBe(1);
    expect(valueOf(exp, 'holdfast_auth_decisions_total', { result: 'invalid' })).toBe(1);
    expect(valueOf(exp, 'holdfast_sessions_active')).toBe(2);
    expect(valueOf(exp, 'holdfast_users_active')).toBe(2);
    expect(valueOf(exp, 'holdfast_workers')).toBe(1);

    // A second scrape adds only what happened since: the counters stay monotonic and exact.
    await sessions.create('alice', client, 'password');
    const again = await scrape(metrics);
    expect(valueOf(again, 'holdfast_sessions_created_total', { method: 'password' })).toBe(3);
    expect(valueOf(again, 'holdfast_sessions_revoked_total', { reason: 'logout' })).toBe(1);
  });

  it('counts what the expiry sweeper removes as expired sessions (ADR 230)', async () => {
    const clock = { now: Date.now() };
    const { metrics, sessions, memory } = setup(undefined, () => clock.now);
    await sessions.create('alice', client, 'password');
    await sessions.create('bob', client, 'password');
    const sweeper = new ExpirySweeper(memory, { intervalMs: 1000, clock: () => clock.now });
    metrics.observeSweeper(sweeper);
    expect(valueOf(await scrape(metrics), 'holdfast_sessions_expired_total')).toBe(0);
    clock.now += 31 * 60_000;
    expect(await sweeper.tick()).toMatchObject({ expired: 2 });
    expect(valueOf(await scrape(metrics), 'holdfast_sessions_expired_total')).toBe(2);
    // Only what was swept since the last scrape is added.
    expect(valueOf(await scrape(metrics), 'holdfast_sessions_expired_total')).toBe(2);
  });

  it('times every store call by operation and outcome', async () => {
    const { metrics, sessions } = setup();
    const s = await sessions.create('alice', client, 'password');
    await sessions.authenticate(s.token);
    await sessions.authenticate(s.token);
    const exp = await scrape(metrics);
    const count = (operation: string) =>
      valueOf(exp, 'holdfast_store_operation_duration_seconds_count', { operation, outcome: 'ok' });
    expect(count('create')).toBe(1);
    expect(count('get')).toBe(2);
    expect(count('revokeUser')).toBe(0);
    // The scrape itself counted once.
    expect(count('count')).toBe(1);
    const sum = valueOf(exp, 'holdfast_store_operation_duration_seconds_sum', {
      operation: 'get',
      outcome: 'ok',
    });
    expect(sum).toBeGreaterThan(0);
  });

  it('times a failed store call by its outcome, and passes a synchronous throw on as a rejection', async () => {
    const { metrics, engine, memory } = setup();
    memory.get = () =>
      Promise.reject(new StoreUnavailableError('get', new Error('connection closed')));
    memory.touch = () => {
      throw new Error('engine bug');
    };
    await expect(engine.get(0, 'a', 1)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(engine.get(0, 'b', 1)).rejects.toBeInstanceOf(StoreUnavailableError);
    const touched = engine.touch(0, 'a', 1, 2, 1);
    expect(touched).toBeInstanceOf(Promise);
    await expect(touched).rejects.toThrow('engine bug');
    const exp = await scrape(metrics);
    const count = (operation: string, outcome: string) =>
      valueOf(exp, 'holdfast_store_operation_duration_seconds_count', { operation, outcome });
    expect(count('get', 'unavailable')).toBe(2);
    expect(count('get', 'ok')).toBe(0);
    expect(count('touch', 'error')).toBe(1);
    expect(count('touch', 'ok')).toBe(0);
  });

  it('counts live sessions at most once per cache period, however often it is scraped', async () => {
    const clock = { now: 1_000_000 };
    const { metrics, sessions } = setup(clock);
    await sessions.create('alice', client, 'password');
    await Promise.all([scrape(metrics), scrape(metrics), scrape(metrics)]);
    await sessions.create('bob', client, 'password');
    clock.now += 4999;
    let exp = await scrape(metrics);
    expect(valueOf(exp, 'holdfast_sessions_active')).toBe(1); // cached
    expect(
      valueOf(exp, 'holdfast_store_operation_duration_seconds_count', { operation: 'count' }),
    ).toBe(1);
    clock.now += 1;
    exp = await scrape(metrics);
    expect(valueOf(exp, 'holdfast_sessions_active')).toBe(2);
    expect(
      valueOf(exp, 'holdfast_store_operation_duration_seconds_count', { operation: 'count' }),
    ).toBe(2);
  });

  it('reports no live figure once the last successful count is too old', async () => {
    const clock = { now: 1_000_000 };
    const { metrics, sessions, memory } = setup(clock);
    await sessions.create('alice', client, 'password');
    expect(valueOf(await scrape(metrics), 'holdfast_sessions_active')).toBe(1);
    // The store stops answering counts (the memory engine stands in for an outage here; the
    // integration test does the same with a stopped Redis).
    memory.count = () => Promise.reject(new Error('store down'));
    clock.now += 10_000;
    let exp = await scrape(metrics);
    expect(valueOf(exp, 'holdfast_sessions_active')).toBe(1); // stale but recent
    expect(valueOf(exp, 'holdfast_session_count_failures_total')).toBe(1);
    expect(
      valueOf(exp, 'holdfast_store_operation_duration_seconds_count', {
        operation: 'count',
        outcome: 'error',
      }),
    ).toBe(1);
    clock.now += 60_000;
    exp = await scrape(metrics);
    expect(find(exp, 'holdfast_sessions_active')).toEqual([]);
    expect(find(exp, 'holdfast_users_active')).toEqual([]);
    expect(valueOf(exp, 'holdfast_session_count_failures_total')).toBe(2);
  });

  it('reports no health figure before the first health check, then what it saw', async () => {
    const { metrics } = setup();
    let exp = await scrape(metrics);
    for (const name of ['holdfast_store_up', 'holdfast_store_cluster_state_ok', 'holdfast_ready']) {
      expect(find(exp, name)).toEqual([]);
    }
    metrics.setStoreHealth({
      up: true,
      clusterOk: true,
      masters: 3,
      replicasOnline: 2,
      replicasRequired: 3,
      failovers: 1,
    });
    metrics.setReady(true);
    metrics.setPreflight([
      { id: 'store.reachable', status: 'pass' },
      { id: 'store.eviction', status: 'fail' },
      { id: 'store.persistence', status: 'warn' },
      { id: 'settings', status: 'pass', subject: 'http.port' },
      { id: 'settings', status: 'fail', subject: 'cookie.password' },
    ]);
    exp = await scrape(metrics);
    expect(valueOf(exp, 'holdfast_store_up')).toBe(1);
    expect(valueOf(exp, 'holdfast_store_masters')).toBe(3);
    expect(valueOf(exp, 'holdfast_store_replicas_online')).toBe(2);
    expect(valueOf(exp, 'holdfast_store_replicas_required')).toBe(3);
    expect(valueOf(exp, 'holdfast_store_failovers_total')).toBe(1);
    expect(valueOf(exp, 'holdfast_ready')).toBe(1);
    expect(valueOf(exp, 'holdfast_preflight_check_status', { check: 'store.eviction' })).toBe(0);
    expect(valueOf(exp, 'holdfast_preflight_check_status', { check: 'store.persistence' })).toBe(1);
    expect(valueOf(exp, 'holdfast_preflight_check_status', { check: 'settings' })).toBe(0);

    metrics.setStoreHealth({ up: false, clusterOk: false, failovers: 3 });
    metrics.setReady(false);
    metrics.setPreflight([{ id: 'store.reachable', status: 'pass' }]);
    exp = await scrape(metrics);
    expect(valueOf(exp, 'holdfast_store_up')).toBe(0);
    expect(valueOf(exp, 'holdfast_store_cluster_state_ok')).toBe(0);
    expect(valueOf(exp, 'holdfast_store_masters')).toBe(3); // last seen, not overwritten by unknown
    expect(valueOf(exp, 'holdfast_store_failovers_total')).toBe(3);
    expect(valueOf(exp, 'holdfast_ready')).toBe(0);
    expect(find(exp, 'holdfast_preflight_check_status', { check: 'store.eviction' })).toEqual([]);
  });

  it('counts failed and throttled logins, with reasons at zero before the first failure', async () => {
    const { metrics } = setup();
    const events = new AuthEvents();
    metrics.observeAuth(events);
    let exp = await scrape(metrics);
    expect(valueOf(exp, 'holdfast_logins_failed_total', { reason: 'wrong_password' })).toBe(0);
    expect(valueOf(exp, 'holdfast_logins_throttled_total', { scope: 'address' })).toBe(0);
    events.record('loginFailed', { reason: 'wrong_password', ip: '203.0.113.7' });
    events.record('loginFailed', { reason: 'wrong_password', ip: '203.0.113.7' });
    events.record('loginFailed', { reason: 'unknown_email', ip: '203.0.113.7' });
    events.record('throttled', { scope: 'address', retryAfterMs: 1000, ip: '203.0.113.7' });
    exp = await scrape(metrics);
    expect(valueOf(exp, 'holdfast_logins_failed_total', { reason: 'wrong_password' })).toBe(2);
    expect(valueOf(exp, 'holdfast_logins_failed_total', { reason: 'unknown_email' })).toBe(1);
    expect(valueOf(exp, 'holdfast_logins_failed_total', { reason: 'throttled' })).toBe(1);
    expect(valueOf(exp, 'holdfast_logins_throttled_total', { scope: 'address' })).toBe(1);
    expect(valueOf(exp, 'holdfast_logins_throttled_total', { scope: 'account' })).toBe(0);
  });

  it('counts mail sent and failed by kind', async () => {
    const { metrics } = setup();
    const events = new AuthEvents();
    metrics.observeAuth(events);
    events.record('mailed', { userId: 'u1', kind: 'reset', ok: true });
    events.record('mailed', { userId: 'u2', kind: 'reset', ok: true });
    events.record('mailed', { userId: 'u1', kind: 'password-changed', ok: false });
    const exp = await scrape(metrics);
    expect(valueOf(exp, 'holdfast_mail_sent_total', { kind: 'reset' })).toBe(2);
    expect(valueOf(exp, 'holdfast_mail_failed_total', { kind: 'password-changed' })).toBe(1);
    expect(() => valueOf(exp, 'holdfast_mail_failed_total', { kind: 'reset' })).toThrow(
      '0 samples',
    );
    expect(events.stats.mailSent).toEqual({ reset: 2 });
  });

  it('exports remember-me thefts and the revocations they cause', async () => {
    const clock = { now: 1_700_000_000_000 };
    const { metrics, sessions } = setup(undefined, () => clock.now);
    const { rememberToken: cookie } = await sessions.create('alice', client, 'password', {
      remember: true,
    });
    const first = await sessions.useRemember(cookie, client);
    expect(first.result).toBe('ok');
    // Reusing the rotated token after the grace window is theft; inside it, it is a parallel request.
    clock.now += 10 * 60_000;
    expect((await sessions.useRemember(cookie, client)).result).toBe('theft');
    const exp = await scrape(metrics);
    expect(valueOf(exp, 'holdfast_remember_thefts_total')).toBe(1);
    expect(valueOf(exp, 'holdfast_sessions_created_total', { method: 'remember' })).toBe(1);
    expect(valueOf(exp, 'holdfast_sessions_revoked_total', { reason: 'theft' })).toBe(2);
  });
});
