/**
 * The holdfast auth scheme on a real hapi server: the session cookie, then the remember-me
 * cookie, else "no session" (401 on required routes, anonymous on optional/try ones).
 */
import { buildTestApp, TestApp } from '../../support/app';
import { call, Jar, registerAndLogIn } from '../../support/inject';

const PASSWORD = 'correct horse battery';
let app: TestApp;
// A fresh app per test: what building it runs then counts for each test, so mutation testing
// (perTest coverage) re-runs only the tests that reach a mutant instead of every test.
beforeEach(async () => {
  app = await buildTestApp({ pages: false });
  app.server.route([
    {
      method: 'GET',
      path: '/whoami',
      handler: (r) => ({
        credentials: r.auth.credentials,
        remembered: r.auth.credentials.remembered,
      }),
    },
    {
      method: 'GET',
      path: '/maybe',
      options: { auth: { mode: 'try' } },
      handler: (r) => ({ signedIn: r.auth.isAuthenticated }),
    },
  ]);
});
afterEach(() => app.server.stop());

let n = 0;
async function signedIn(remember = false) {
  const email = `scheme.${process.pid}.${Date.now()}.${++n}@example.com`;
  return registerAndLogIn(app.server, email, PASSWORD, remember);
}

function setCookie(r: { headers: Record<string, unknown> }, name: string): string | undefined {
  const raw = r.headers['set-cookie'];
  const list = raw === undefined ? [] : ([] as string[]).concat(raw as string[]);
  return list.find((c) => c.startsWith(`${name}=`));
}

test('a live session cookie authenticates as its user and sets no cookie', async () => {
  const { jar, userId } = await signedIn();
  const r = await call(app.server, jar, 'GET', '/whoami');
  expect(r.statusCode).toBe(200);
  const body = JSON.parse(r.payload);
  expect(body.credentials.user).toEqual({ id: userId });
  expect(body.credentials.session.userId).toBe(userId);
  expect(body.remembered).toBeUndefined();
  expect(r.headers['set-cookie']).toBeUndefined();
});

test('an ended session cookie is 401 and the browser is told to drop it', async () => {
  const { jar } = await signedIn();
  const copy = jar.clone();
  await call(app.server, jar, 'POST', '/auth/logout');
  const r = await call(app.server, copy, 'GET', '/whoami');
  expect(r.statusCode).toBe(401);
  expect(setCookie(r, 'holdfast')).toMatch(/^holdfast=; Max-Age=0;/);
  // No cookie at all: 401 and nothing to drop.
  const none = await call(app.server, null, 'GET', '/whoami');
  expect(none.statusCode).toBe(401);
  expect(none.headers['set-cookie']).toBeUndefined();
});

test('without a session, the remember-me cookie starts a fresh session, rotates, and is recorded as a remember login', async () => {
  const { jar, userId } = await signedIn(true);
  const browser = new Jar();
  const remembered = jar.cookies.get('holdfast_remember') as string;
  browser.cookies.set('holdfast', 'expired-or-garbage');
  browser.cookies.set('holdfast_remember', remembered);
  const logins = app.events.stats.logins.remember;
  const seen: Array<{ method: string; remember: boolean; userId: string }> = [];
  const listener = (e: { method: string; remember: boolean; userId: string }) => seen.push(e);
  app.events.on('login', listener);
  const r = await call(app.server, browser, 'GET', '/whoami');
  app.events.off('login', listener);
  expect(r.statusCode).toBe(200);
  const body = JSON.parse(r.payload);
  expect(body.remembered).toBe(true);
  expect(body.credentials.user).toEqual({ id: userId });
  expect(body.credentials.session.method).toBe('remember');
  expect(setCookie(r, 'holdfast')).toMatch(/^holdfast=\d+\./);
  expect(setCookie(r, 'holdfast_remember')).toMatch(/^holdfast_remember=\d+\./);
  expect(browser.cookies.get('holdfast_remember')).not.toBe(remembered);
  expect(app.events.stats.logins.remember).toBe(logins + 1);
  expect(seen).toEqual([expect.objectContaining({ userId, method: 'remember', remember: true })]);
  // The new session cookie works on its own.
  const again = await call(app.server, browser, 'GET', '/whoami');
  expect(JSON.parse(again.payload).remembered).toBeUndefined();

  // Within the grace window the old token still signs in but the cookie is not rotated again.
  const parallel = await call(app.server, null, 'GET', '/whoami', undefined, {
    cookie: `holdfast_remember=${remembered}`,
  });
  expect(parallel.statusCode).toBe(200);
  expect(setCookie(parallel, 'holdfast')).toBeDefined();
  expect(setCookie(parallel, 'holdfast_remember')).toBeUndefined();
});

test('an unknown or stolen remember-me cookie is 401 and is dropped', async () => {
  const { jar } = await signedIn(true);
  const remembered = jar.cookies.get('holdfast_remember') as string;
  const [shard, , secret] = remembered.split('.');
  for (const cookie of [
    `holdfast_remember=${shard}.${'A'.repeat(22)}.${secret}`,
    'holdfast_remember=garbage',
  ]) {
    const r = await call(app.server, null, 'GET', '/whoami', undefined, { cookie });
    expect(r.statusCode).toBe(401);
    expect(setCookie(r, 'holdfast_remember')).toMatch(/^holdfast_remember=; Max-Age=0;/);
  }
  // Theft: use once (rotates), wait past the grace window, replay the old token.
  await call(app.server, null, 'GET', '/whoami', undefined, {
    cookie: `holdfast_remember=${remembered}`,
  });
  app.clock.now += app.settings.session.rememberGrace + 1000;
  const theft = await call(app.server, null, 'GET', '/whoami', undefined, {
    cookie: `holdfast_remember=${remembered}`,
  });
  expect(theft.statusCode).toBe(401);
  expect(setCookie(theft, 'holdfast_remember')).toMatch(/^holdfast_remember=; Max-Age=0;/);
  expect(setCookie(theft, 'holdfast')).toBeUndefined();
  expect((await call(app.server, jar, 'GET', '/whoami')).statusCode).toBe(401);
});

test('on a try route, no session or an ended one is a plain anonymous request', async () => {
  const { jar } = await signedIn();
  expect(JSON.parse((await call(app.server, jar, 'GET', '/maybe')).payload)).toEqual({
    signedIn: true,
  });
  const copy = jar.clone();
  await call(app.server, jar, 'POST', '/auth/logout');
  const r = await call(app.server, copy, 'GET', '/maybe');
  expect(r.statusCode).toBe(200);
  expect(JSON.parse(r.payload)).toEqual({ signedIn: false });
});
