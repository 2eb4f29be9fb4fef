/**
 * Redis at maxmemory with noeviction (issue 12, item 1): new logins and registrations fail with a
 * clear 503 (HF_STORE_FULL, Retry-After) counted as holdfast_store_unavailable_total{cause="oom"};
 * sessions already made keep working: their reads succeed and a renewal the store refuses never
 * logs anyone out.
 */
import { Metrics } from '../../../src/metrics';
import { storeUnavailable } from '../../../src/store';
import { getProvider, RedisNode } from '../../harness';
import { buildRedisTestApp, RedisTestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

jest.setTimeout(120_000);

const PASSWORD = 'correct horse battery';
const RENEW_AFTER_MS = 60_000;

let node: RedisNode;
let app: RedisTestApp;
let metrics: Metrics;

beforeAll(async () => {
  node = await getProvider().standalone({ extraArgs: ['--maxmemory-policy', 'noeviction'] });
  const settings = testSettings({
    session: { renewAfter: `${RENEW_AFTER_MS}ms` },
    store: {
      type: 'redis',
      redis: { mode: 'standalone', nodes: [`${node.host}:${node.port}`], commandTimeout: '1s' },
    },
  });
  app = await buildRedisTestApp(settings, { pages: false });
  metrics = new Metrics({ defaultMetrics: false });
});

afterAll(async () => {
  await app?.stop();
  await node?.destroy();
});

async function oomMetric(): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString('holdfast_store_unavailable_total');
  const line = text.split('\n').find((l) => l.includes('cause="oom"'));
  return Number(line?.split(' ').pop() ?? 0);
}

test('store full: logins and registrations answer 503 HF_STORE_FULL; signed-in sessions keep working', async () => {
  const stamp = Date.now();
  const signedIn = new Jar();
  const reg = await call(app.server, signedIn, 'POST', '/auth/register', {
    email: `full.a.${stamp}@example.com`,
    password: PASSWORD,
  });
  expect(reg.statusCode).toBe(201);
  const other = `full.b.${stamp}@example.com`;
  expect(
    (await call(app.server, null, 'POST', '/auth/register', { email: other, password: PASSWORD }))
      .statusCode,
  ).toBe(201);
  const session = signedIn.clone();
  const second = new Jar();
  expect(
    (
      await call(app.server, second, 'POST', '/auth/login', {
        email: `full.a.${stamp}@example.com`,
        password: PASSWORD,
      })
    ).statusCode,
  ).toBe(200);
  const secondToken = second.clone();
  const oomBefore = await oomMetric();
  const countedBefore = storeUnavailable.counts.oom;

  // Full: every write that needs memory is refused with OOM (noeviction evicts nothing).
  await node.command(['CONFIG', 'SET', 'maxmemory', '1']);
  try {
    const login = await call(app.server, new Jar(), 'POST', '/auth/login', {
      email: other,
      password: PASSWORD,
    });
    expect(login.statusCode).toBe(503);
    expect(JSON.parse(login.payload)).toMatchObject({
      code: 'HF_STORE_FULL',
      message: 'the session store is full; sign-in is unavailable for now',
    });
    expect(login.headers['retry-after']).toBe('30');
    expect(login.headers['set-cookie']).toBeUndefined();
    const register = await call(app.server, new Jar(), 'POST', '/auth/register', {
      email: `full.c.${stamp}@example.com`,
      password: PASSWORD,
    });
    expect(register.statusCode).toBe(503);
    expect(JSON.parse(register.payload).code).toBe('HF_STORE_FULL');
    expect(storeUnavailable.counts.oom).toBeGreaterThan(countedBefore);
    expect(await oomMetric()).toBeGreaterThan(oomBefore);

    // The signed-in user: reads work, including the session list (a read-only script).
    const me = await call(app.server, signedIn, 'GET', '/auth/me');
    expect(me.statusCode).toBe(200);
    expect((await call(app.server, signedIn, 'GET', '/auth/sessions')).statusCode).toBe(200);
    // A renewal is due and the store refuses it: still 200, and the cookie is not cleared.
    app.clock.now += RENEW_AFTER_MS + 1000;
    const renewing = await call(app.server, signedIn, 'GET', '/auth/me');
    expect(renewing.statusCode).toBe(200);
    expect(renewing.headers['set-cookie']).toBeUndefined();
    // Renewals are sent after the answer (ADR 205): wait for the refused one to settle.
    await app.sessions.settled();
    expect(app.sessions.stats.renewals).toBe(0);
    expect(signedIn.cookies).toEqual(session.cookies);
    // Ending a session still works when full (its scripts delete first), and for good.
    expect((await call(app.server, second, 'POST', '/auth/logout')).statusCode).toBe(204);
    expect((await call(app.server, secondToken, 'GET', '/auth/me')).statusCode).toBe(401);
  } finally {
    await node.command(['CONFIG', 'SET', 'maxmemory', '0']);
  }
  // Memory back: the next request renews, and logins work again.
  expect((await call(app.server, signedIn, 'GET', '/auth/me')).statusCode).toBe(200);
  await app.sessions.settled();
  expect(app.sessions.stats.renewals).toBe(1);
  const login = await call(app.server, new Jar(), 'POST', '/auth/login', {
    email: other,
    password: PASSWORD,
  });
  expect(login.statusCode).toBe(200);
});
