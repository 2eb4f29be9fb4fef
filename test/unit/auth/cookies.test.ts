/**
 * The two cookies as a browser receives them: the session cookie ends with the browser (no
 * Max-Age, no Expires: the server enforces idle and absolute deadlines), the remember-me cookie
 * lives rememberTtl. Malformed cookies are "no session", and the browser is told to drop them.
 */
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

const PASSWORD = 'correct horse battery';
let app: TestApp;
let secure: TestApp;
// A fresh app per test: what building it runs then counts for each test, so mutation testing
// (perTest coverage) re-runs only the tests that reach a mutant instead of every test.
beforeEach(async () => {
  app = await buildTestApp({ pages: true });
  secure = await buildTestApp({ settings: testSettings({ cookie: { secure: true } }) });
});
afterEach(async () => {
  await app.server.stop();
  await secure.server.stop();
});

let n = 0;
const newEmail = () => `cookies.${process.pid}.${Date.now()}.${++n}@example.com`;

function setCookies(r: { headers: Record<string, unknown> }): string[] {
  const raw = r.headers['set-cookie'];
  return raw === undefined ? [] : ([] as string[]).concat(raw as string[]);
}
function cookie(r: { headers: Record<string, unknown> }, name: string): string {
  const c = setCookies(r).find((s) => s.startsWith(`${name}=`));
  if (!c) throw new Error(`no Set-Cookie for ${name}: ${setCookies(r).join(' | ')}`);
  return c;
}
function expectBrowserSession(c: string): void {
  expect(c).not.toMatch(/;\s*Max-Age=/i);
  expect(c).not.toMatch(/;\s*Expires=/i);
  expect(c).toMatch(/;\s*HttpOnly/);
}

test('the session cookie is a browser-session cookie wherever it is issued; remember-me lives rememberTtl', async () => {
  const email = newEmail();
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const jar = new Jar();
  const register = await call(app.server, jar, 'POST', '/auth/register', {
    email,
    password: PASSWORD,
  });
  expectBrowserSession(cookie(register, 'holdfast'));
  expect(setCookies(register)).toHaveLength(1); // no remember-me unless asked

  const before = Date.now();
  const login = await call(app.server, jar, 'POST', '/auth/login', {
    email,
    password: PASSWORD,
    remember: true,
  });
  expectBrowserSession(cookie(login, 'holdfast'));
  const remember = cookie(login, 'holdfast_remember');
  const ttlSeconds = app.settings.session.rememberTtl / 1000;
  expect(remember).toMatch(new RegExp(`; Max-Age=${ttlSeconds};`));
  const expires = Date.parse(/; Expires=([^;]+)/.exec(remember)![1]);
  // Expires is whole seconds, computed by hapi from the wall clock while answering.
  expect(expires).toBeGreaterThanOrEqual(before + app.settings.session.rememberTtl - 1000);
  expect(expires).toBeLessThanOrEqual(Date.now() + app.settings.session.rememberTtl);

  const page = await call(
    app.server,
    new Jar(),
    'POST',
    '/login',
    `email=${encodeURIComponent(email)}&password=correct+horse+battery`,
    form,
  );
  expect(page.statusCode).toBe(303);
  expectBrowserSession(cookie(page, 'holdfast'));

  // A session started from the remember-me cookie (the browser was closed) is one too.
  const browser = new Jar();
  browser.cookies.set('holdfast_remember', jar.cookies.get('holdfast_remember') as string);
  const back = await call(app.server, browser, 'GET', '/auth/me');
  expect(back.statusCode).toBe(200);
  expectBrowserSession(cookie(back, 'holdfast'));
  expect(cookie(back, 'holdfast_remember')).toMatch(new RegExp(`; Max-Age=${ttlSeconds};`));

  const changed = await call(app.server, jar, 'POST', '/auth/password', {
    currentPassword: PASSWORD,
    newPassword: 'a new password!',
  });
  expect(changed.statusCode).toBe(200);
  expectBrowserSession(cookie(changed, 'holdfast'));
});

test('with Secure on, both cookies are __Host- prefixed, Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain', async () => {
  const email = newEmail();
  await call(secure.server, null, 'POST', '/auth/register', { email, password: PASSWORD });
  const login = await call(secure.server, null, 'POST', '/auth/login', {
    email,
    password: PASSWORD,
    remember: true,
  });
  for (const name of ['__Host-holdfast', '__Host-holdfast_remember']) {
    const c = cookie(login, name);
    expect(c).toMatch(/; Secure(;|$)/);
    expect(c).toMatch(/; HttpOnly(;|$)/);
    expect(c).toMatch(/; SameSite=Lax(;|$)/);
    expect(c).toMatch(/; Path=\/(;|$)/);
    expect(c).not.toMatch(/Domain=/i);
  }
  expectBrowserSession(cookie(login, '__Host-holdfast'));
  expect(setCookies(login).some((c) => /^holdfast/.test(c))).toBe(false);
});

test('a malformed cookie is "no session" (401, never 400) on any route, and the browser is told to drop it', async () => {
  for (const [url, header, name] of [
    ['/private', 'holdfast="bad value"', 'holdfast'],
    ['/auth/me', 'holdfast="bad value"', 'holdfast'],
    ['/private', 'holdfast_remember=x"y', 'holdfast_remember'],
  ]) {
    const r = await app.server.inject({ method: 'GET', url, headers: { cookie: header } });
    expect([url, header, r.statusCode]).toEqual([url, header, 401]);
    expect(cookie(r, name)).toMatch(/^[^=]+=; Max-Age=0;/);
  }
});
