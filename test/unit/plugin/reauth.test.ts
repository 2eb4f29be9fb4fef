/**
 * Re-authentication (ASVS 5.0 V7.5.1) on the memory store, through the JSON API and the pages:
 * "sign out everywhere else" needs a password (or provider) confirmation within
 * auth.reauthWindow. Linking and unlinking a provider are checked the same way against a real
 * OAuth provider in test/integration/plugin/oauth.test.ts.
 */
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

const PASSWORD = 'correct horse battery';
const WRONG = 'wrong password!';
let app: TestApp;
let window: number;

beforeAll(async () => {
  app = await buildTestApp({ pages: true });
  window = app.settings.auth.reauthWindow;
});

let n = 0;
async function twoDevices(remember = false) {
  const email = `reauth.${process.pid}.${Date.now()}.${++n}@example.com`;
  const jar = new Jar();
  const reg = await call(app.server, jar, 'POST', '/auth/register', { email, password: PASSWORD });
  expect(reg.statusCode).toBe(201);
  const other = new Jar();
  const login = await call(app.server, other, 'POST', '/auth/login', {
    email,
    password: PASSWORD,
    remember,
  });
  expect(login.statusCode).toBe(200);
  return { email, jar, other };
}

const status = async (jar: Jar, path = '/auth/me') =>
  (await call(app.server, jar, 'GET', path)).statusCode;

function crumbOf(html: string): string {
  return /name='crumb' value='([^']+)'/.exec(html)![1];
}

async function form(jar: Jar, url: string, fields: Record<string, string> = {}) {
  const page = await call(app.server, jar, 'GET', '/account');
  const payload = new URLSearchParams({ crumb: crumbOf(page.payload), ...fields }).toString();
  return call(app.server, jar, 'POST', url, payload, {
    'content-type': 'application/x-www-form-urlencoded',
  });
}

test('within auth.reauthWindow of the login, signing out everywhere else works', async () => {
  const { jar, other } = await twoDevices();
  app.clock.now += window; // the boundary still counts
  const r = await call(app.server, jar, 'DELETE', '/auth/sessions');
  expect(r.statusCode).toBe(200);
  expect(JSON.parse(r.payload).revoked).toBe(1);
  expect(await status(other)).toBe(401);
});

test('past the window: 403 HF_REAUTH_REQUIRED and nothing ends; after POST /auth/reauth it works', async () => {
  const { jar, other } = await twoDevices();
  app.clock.now += window + 1;
  const refused = await call(app.server, jar, 'DELETE', '/auth/sessions');
  expect(refused.statusCode).toBe(403);
  expect(JSON.parse(refused.payload)).toMatchObject({
    code: 'HF_REAUTH_REQUIRED',
    reauth: '/auth/reauth',
    message: expect.stringMatching(/confirm your password.*auth\.reauthWindow/),
  });
  expect(await status(other)).toBe(200);
  expect(await status(jar)).toBe(200); // still signed in: 403, not 401

  const wrong = await call(app.server, jar, 'POST', '/auth/reauth', { password: WRONG });
  expect(wrong.statusCode).toBe(403);
  expect(JSON.parse(wrong.payload).code).toBe('HF_PASSWORD_MISMATCH');
  expect((await call(app.server, jar, 'DELETE', '/auth/sessions')).statusCode).toBe(403);

  const before = jar.clone();
  const ok = await call(app.server, jar, 'POST', '/auth/reauth', { password: PASSWORD });
  expect(ok.statusCode).toBe(200);
  const body = JSON.parse(ok.payload);
  expect(body.session.method).toBe('password');
  expect(Date.parse(body.reauthUntil)).toBe(app.clock.now + window);
  // A new authentication, a new token (V7.2.4): the one before it is over.
  expect(jar.cookies.get('holdfast')).not.toBe(before.cookies.get('holdfast'));
  expect(await status(before)).toBe(401);
  const done = await call(app.server, jar, 'DELETE', '/auth/sessions');
  expect(done.statusCode).toBe(200);
  expect(await status(other)).toBe(401);
});

test('a remember-me sign-in is never a recent authentication', async () => {
  const { other } = await twoDevices(true);
  other.cookies.delete('holdfast');
  expect(await status(other)).toBe(200); // a fresh session from the remember-me cookie
  const me = JSON.parse((await call(app.server, other, 'GET', '/auth/me')).payload);
  expect(me.session.method).toBe('remember');
  const r = await call(app.server, other, 'DELETE', '/auth/sessions');
  expect(r.statusCode).toBe(403);
  expect(JSON.parse(r.payload).code).toBe('HF_REAUTH_REQUIRED');
});

test('a password change is its own confirmation and counts as one afterwards', async () => {
  const { jar, other } = await twoDevices();
  app.clock.now += window + 1;
  const changed = await call(app.server, jar, 'POST', '/auth/password', {
    currentPassword: PASSWORD,
    newPassword: 'a new password!',
  });
  expect(changed.statusCode).toBe(200);
  expect(JSON.parse(changed.payload).session.method).toBe('password');
  expect(await status(other)).toBe(401);
  const third = new Jar();
  const me = JSON.parse((await call(app.server, jar, 'GET', '/auth/me')).payload);
  await call(app.server, third, 'POST', '/auth/login', {
    email: me.user.email,
    password: 'a new password!',
  });
  expect((await call(app.server, jar, 'DELETE', '/auth/sessions')).statusCode).toBe(200);
  expect(await status(third)).toBe(401);
});

test('wrong re-authentication passwords go through the login throttle: 429 even for the right one, and login is throttled too', async () => {
  const { email, jar } = await twoDevices();
  const limit = app.settings.throttle.accountFailures;
  for (let i = 0; i < limit; i++) {
    const r = await call(app.server, jar, 'POST', '/auth/reauth', { password: WRONG });
    expect(r.statusCode).toBe(403);
  }
  const right = await call(app.server, jar, 'POST', '/auth/reauth', { password: PASSWORD });
  expect(right.statusCode).toBe(429);
  expect(JSON.parse(right.payload).code).toBe('HF_LOGIN_THROTTLED');
  expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
  // The same counter as the login form: guessing here is no way around its limit.
  const login = await call(app.server, null, 'POST', '/auth/login', { email, password: PASSWORD });
  expect(login.statusCode).toBe(429);
  expect(await status(jar)).toBe(200);
  expect(app.events.stats.loginFailures.wrong_password).toBeGreaterThanOrEqual(limit);
});

test('the account page asks for the confirmation when needed, and "Sign out everywhere else" follows it', async () => {
  const { jar, other } = await twoDevices();
  const fresh = await call(app.server, jar, 'GET', '/account');
  expect(fresh.payload).not.toContain('Confirm it is you');
  app.clock.now += window + 1;
  const stale = await call(app.server, jar, 'GET', '/account');
  expect(stale.payload).toContain('Confirm it is you');
  expect(stale.payload).toContain("action='/account/reauth'");

  const refused = await form(jar, '/account/sessions/revoke-others');
  expect(refused.statusCode).toBe(403);
  expect(refused.payload).toMatch(/confirm your password/);
  expect(await status(other)).toBe(200);

  const wrong = await form(jar, '/account/reauth', { password: WRONG });
  expect(wrong.statusCode).toBe(403);
  expect(wrong.payload).toMatch(/password is wrong/);
  const ok = await form(jar, '/account/reauth', { password: PASSWORD });
  expect(ok.statusCode).toBe(303);
  expect(ok.headers.location).toBe('/account?done=reauth');
  const page = await call(app.server, jar, 'GET', '/account?done=reauth');
  expect(page.payload).toMatch(/Confirmed\. For the next 5 minutes/);
  expect(page.payload).not.toContain('Confirm it is you');
  const done = await form(jar, '/account/sessions/revoke-others');
  expect(done.headers.location).toBe('/account?done=others');
  expect(await status(other)).toBe(401);
  // Only the page's own notices and reasons are shown, never whatever a query names.
  const odd = await call(app.server, jar, 'GET', '/account?done=constructor&fail=toString');
  expect(odd.statusCode).toBe(200);
  expect(odd.payload).not.toMatch(/role='(status|alert)'/);
});

test('auth.reauthWindow: 5m by default, from 10s to 1h', () => {
  expect(testSettings().auth.reauthWindow).toBe(5 * 60_000);
  expect(testSettings({ auth: { reauthWindow: '15m' } }).auth.reauthWindow).toBe(15 * 60_000);
  expect(() => testSettings({ auth: { reauthWindow: '2h' } })).toThrow(/auth\.reauthWindow/);
  expect(() => testSettings({ auth: { reauthWindow: '1s' } })).toThrow(/auth\.reauthWindow/);
});

test('under a route prefix, the answer names the prefixed re-authentication route', async () => {
  const prefixed = await buildTestApp({ prefix: '/id' });
  const jar = new Jar();
  const email = `reauth.prefix.${process.pid}.${Date.now()}@example.com`;
  const reg = await call(prefixed.server, jar, 'POST', '/id/auth/register', {
    email,
    password: PASSWORD,
  });
  expect(reg.statusCode).toBe(201);
  prefixed.clock.now += prefixed.settings.auth.reauthWindow + 1;
  const refused = await call(prefixed.server, jar, 'DELETE', '/id/auth/sessions');
  expect(refused.statusCode).toBe(403);
  expect(JSON.parse(refused.payload)).toMatchObject({
    code: 'HF_REAUTH_REQUIRED',
    reauth: '/id/auth/reauth',
  });
  const ok = await call(prefixed.server, jar, 'POST', '/id/auth/reauth', { password: PASSWORD });
  expect(ok.statusCode).toBe(200);
});
