/**
 * The server-rendered pages as a browser uses them: form posts with a cookie jar.
 */
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { newId } from '../../../src/session/token';
import { call, errorOf, Jar } from '../../support/inject';
import { session, stored } from '../../support/store-fixtures';

let app: TestApp;
let seq = 0;
const email = (tag: string) => `pages.${tag}.${process.pid}.${++seq}@example.com`;
const PASSWORD = 'correct horse battery';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

beforeAll(async () => {
  app = await buildTestApp({ pages: true });
});

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

test('POST /register (page form) ends the session the browser already had (no fixation, ASVS 5.0 V7.2.4)', async () => {
  // A signs in through the login page of this browser.
  const a = email('a');
  await call(app.server, null, 'POST', '/auth/register', { email: a, password: PASSWORD });
  const jar = new Jar();
  const login = await call(
    app.server,
    jar,
    'POST',
    '/login',
    form({ email: a, password: PASSWORD }),
    FORM,
  );
  expect([login.statusCode, login.headers.location]).toEqual([303, '/account']);
  const old = jar.clone();
  expect((await call(app.server, old, 'GET', '/auth/me')).statusCode).toBe(200);

  // B registers in the same browser through the register page.
  const b = email('b');
  const reg = await call(
    app.server,
    jar,
    'POST',
    '/register',
    form({ email: b, password: PASSWORD, name: 'Bea' }),
    FORM,
  );
  expect([reg.statusCode, reg.headers.location]).toEqual([303, '/account']);
  expect(jar.cookies.get('holdfast')).not.toBe(old.cookies.get('holdfast'));
  const me = await call(app.server, jar, 'GET', '/auth/me');
  expect(JSON.parse(me.payload).user.email).toBe(b);

  // A's session is over: its old cookie no longer signs anyone in.
  const stale = await call(app.server, old, 'GET', '/auth/me');
  expect(stale.statusCode).toBe(401);
  const oldId = String(old.cookies.get('holdfast')).split('.')[1];
  const aUser = await app.users.findByEmail(a);
  const left = await app.sessions.list(aUser?.id as string);
  expect(left.map((s) => s.id)).not.toContain(oldId);
});

test('POST /register (page form) with a common password re-renders the form with the rule, not the password', async () => {
  const address = email('weak');
  const res = await call(
    app.server,
    new Jar(),
    'POST',
    '/register',
    form({ email: address, password: 'Password123' }),
    FORM,
  );
  expect(res.statusCode).toBe(400);
  expect(res.payload).toContain('password: is one of the 10,000 most common passwords');
  expect(res.payload).not.toContain('Password123');
  expect(await app.users.findByEmail(address)).toBeNull();
});

/** Every URL a page links to, posts to or loads (href, action, src). */
function urlsIn(html: string): string[] {
  return [...html.matchAll(/\b(?:href|action|src)='([^']*)'/g)].map((m) => m[1]);
}

describe('registered with routes: { prefix }', () => {
  const PREFIX = '/id';
  let prefixed: TestApp;
  beforeAll(async () => {
    prefixed = await buildTestApp({
      prefix: PREFIX,
      settings: testSettings({ oauth: { github: { clientId: 'id', clientSecret: 'secret' } } }),
    });
  });

  const expectUnderPrefix = (html: string) => {
    const urls = urlsIn(html);
    expect(urls.length).toBeGreaterThan(2);
    for (const url of urls) expect(url).toMatch(/^\/id\//);
  };

  test('links, form actions, asset URLs and redirects of every page carry the prefix', async () => {
    for (const path of ['/login', '/register']) {
      const page = await call(prefixed.server, new Jar(), 'GET', PREFIX + path);
      expect(page.statusCode).toBe(200);
      expectUnderPrefix(page.payload);
    }
    // The provider button points at the provider route as it is really served.
    const login = await call(prefixed.server, null, 'GET', `${PREFIX}/login`);
    expect(urlsIn(login.payload)).toContain('/id/auth/oauth/github');
    expect((await prefixed.server.inject('/id/auth/oauth/github')).statusCode).toBe(302);
    // The stylesheet the pages link to is served there.
    const css = await prefixed.server.inject(`${PREFIX}/auth/assets/holdfast.css`);
    expect([css.statusCode, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);

    // Signed out: the account page sends the browser to the login page under the prefix.
    const away = await call(prefixed.server, new Jar(), 'GET', `${PREFIX}/account`);
    expect([away.statusCode, away.headers.location]).toEqual([303, '/id/login']);

    const jar = new Jar();
    const reg = await call(
      prefixed.server,
      jar,
      'POST',
      `${PREFIX}/register`,
      form({ email: email('prefix'), password: PASSWORD }),
      FORM,
    );
    expect([reg.statusCode, reg.headers.location]).toEqual([303, '/id/account']);
    const account = await call(prefixed.server, jar, 'GET', `${PREFIX}/account`);
    expect(account.statusCode).toBe(200);
    expectUnderPrefix(account.payload);
    const again = await call(prefixed.server, jar, 'GET', `${PREFIX}/login`);
    expect([again.statusCode, again.headers.location]).toEqual([303, '/id/account']);
    const logoutPage = await call(prefixed.server, jar, 'GET', `${PREFIX}/logout`);
    expectUnderPrefix(logoutPage.payload);
    const crumb = /name='crumb' value='([^']+)'/.exec(account.payload)?.[1] as string;
    const out = await call(prefixed.server, jar, 'POST', `${PREFIX}/logout`, form({ crumb }), FORM);
    expect([out.statusCode, out.headers.location]).toEqual([303, '/id/login']);
  });

  test('an error page links under the prefix too', async () => {
    const res = await call(
      prefixed.server,
      null,
      'POST',
      `${PREFIX}/login`,
      form({ email: 'a@example.com', password: 'x'.repeat(20_000) }),
      FORM,
    );
    expect(res.statusCode).toBe(413);
    expectUnderPrefix(res.payload);
  });
});

describe('a page route that fails answers an HTML page with its status, not JSON', () => {
  const expectErrorPage = (res: Awaited<ReturnType<typeof call>>, status: number, code: string) => {
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.payload.startsWith('<!doctype html>')).toBe(true);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(errorOf(res).code).toBe(code);
  };

  test('403 (a wrong crumb), 404 (no such provider), 413 (a form too large), 415 (not a form)', async () => {
    const jar = new Jar();
    await call(
      app.server,
      jar,
      'POST',
      '/register',
      form({ email: email('errors'), password: PASSWORD }),
      FORM,
    );
    const account = await call(app.server, jar, 'GET', '/account');
    const crumb = /name='crumb' value='([^']+)'/.exec(account.payload)?.[1] as string;

    const forged = await call(
      app.server,
      jar,
      'POST',
      '/account/password',
      form({ crumb: 'x' }),
      FORM,
    );
    expectErrorPage(forged, 403, 'HF_CSRF');
    expect(errorOf(forged).message).toMatch(/crumb is missing or wrong/);
    // Signed in: the way back is the account page, and the header still offers Log out.
    expect(forged.payload).toContain("<a href='/account'>Back to your account</a>");
    expect(forged.payload).toContain("action='/logout'");

    const none = await call(
      app.server,
      jar,
      'POST',
      '/account/oauth/nope/link',
      form({ crumb }),
      FORM,
    );
    expectErrorPage(none, 404, 'HF_REQUEST_INVALID');

    const big = await call(
      app.server,
      null,
      'POST',
      '/login',
      form({ email: 'a@example.com', password: 'x'.repeat(20_000) }),
      FORM,
    );
    expectErrorPage(big, 413, 'HF_REQUEST_INVALID');
    expect(big.payload).toContain("<a href='/login'>Go to the login page</a>");

    const json = await call(app.server, null, 'POST', '/login', { email: 'a@example.com' });
    expectErrorPage(json, 415, 'HF_REQUEST_INVALID');
  });

  test('the API keeps answering JSON errors', async () => {
    const res = await call(app.server, null, 'POST', '/auth/login', 'x'.repeat(20_000), {
      'content-type': 'application/json',
    });
    expect(res.statusCode).toBe(413);
    expect(JSON.parse(res.payload).code).toBe('HF_REQUEST_INVALID');
  });
});

test('the account page signs out a format 4 session (16-char id) and ignores ids of other lengths', async () => {
  const address = email('compact');
  const jar = new Jar();
  const reg = await call(app.server, jar, 'POST', '/auth/register', {
    email: address,
    password: PASSWORD,
  });
  const userId = JSON.parse(reg.payload).user.id as string;
  const shard = Number(String(jar.cookies.get('holdfast')).split('.')[0]);
  const compact = session(userId, app.clock.now, { id: newId(12) });
  const oddLength = session(userId, app.clock.now, { id: newId(12).slice(0, 15) });
  for (const s of [compact, oddLength]) await app.engine.create(shard, stored(s), 10);
  const crumb = /name='crumb' value='([^']+)'/.exec(
    (await call(app.server, jar, 'GET', '/account')).payload,
  )![1];
  for (const id of [oddLength.id, compact.id]) {
    const r = await call(
      app.server,
      jar,
      'POST',
      `/account/sessions/${id}/revoke`,
      form({ crumb }),
      FORM,
    );
    expect([r.statusCode, r.headers.location]).toEqual([303, '/account?done=revoked']);
  }
  // The 16-char one ended; the 15-char id is no session id, so nothing was asked of the store.
  const left = (await app.sessions.list(userId)).map((s) => s.id);
  expect(left).toContain(oddLength.id);
  expect(left).not.toContain(compact.id);
  expect(left).toHaveLength(2);
});
