/**
 * OWASP ASVS 4.0.3 chapter V3 (session management): one named test per requirement that applies.
 * docs/security.md maps each requirement to the test here.
 */
import { createHash } from 'node:crypto';
import { parseToken } from '../../../src/session';
import { encodeSession, SESSION_LAYOUT } from '../../../src/store/record-codec';
import { formatOf } from '../../support/store-fixtures';
import { expectRandom } from '../../support/randomness';
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

let app: TestApp;

// A fresh app per test: what building it runs then counts for each test, so mutation testing
// (perTest coverage) re-runs only the tests that reach a mutant instead of every test.
beforeEach(async () => {
  app = await buildTestApp({ pages: true });
});

/** An app with Secure cookies (built only by the tests that need one). */
function secureApp(): Promise<TestApp> {
  return buildTestApp({ settings: testSettings({ cookie: { secure: true } }), pages: true });
}

let n = 0;
async function signedIn(on: TestApp = app, remember = false) {
  const email = `asvs.${Date.now()}.${++n}@example.com`;
  const jar = new Jar();
  await call(on.server, jar, 'POST', '/auth/register', {
    email,
    password: 'correct horse battery',
  });
  if (remember)
    await call(on.server, jar, 'POST', '/auth/login', {
      email,
      password: 'correct horse battery',
      remember: true,
    });
  return { email, jar };
}

test('V3.1.1 the session token never appears in a URL, a response body or a redirect', async () => {
  const { email, jar } = await signedIn();
  const token = jar.cookies.get('holdfast') as string;
  const responses = [
    await call(app.server, null, 'POST', '/auth/login', {
      email,
      password: 'correct horse battery',
    }),
    await call(app.server, jar, 'GET', '/auth/me'),
    await call(app.server, jar, 'GET', '/auth/sessions'),
    await call(app.server, jar, 'GET', '/account'),
  ];
  for (const r of responses) {
    expect(r.payload).not.toContain(token);
    expect(r.payload).not.toContain(token.split('.')[2]);
    expect(String(r.headers.location ?? '')).not.toContain(token);
  }
});

test('V3.2.1 a new session token at every authentication; the old one ends', async () => {
  const { email, jar } = await signedIn();
  const before = jar.cookies.get('holdfast');
  const old = jar.clone();
  await call(app.server, jar, 'POST', '/auth/login', { email, password: 'correct horse battery' });
  expect(jar.cookies.get('holdfast')).not.toBe(before);
  expect((await call(app.server, old, 'GET', '/auth/me')).statusCode).toBe(401);
});

test('V3.2.2 session tokens have at least 64 bits of entropy (a 256-bit secret, and a 96-bit id that is unique)', async () => {
  const { jar } = await signedIn();
  const parsed = parseToken(jar.cookies.get('holdfast'), app.settings.store.redis.shards);
  expect(parsed).not.toBeNull();
  // The secret authenticates; the id is public and needs only be unique (format 4: 12 bytes).
  expect(Buffer.from(parsed!.secret, 'base64url').length * 8).toBeGreaterThanOrEqual(256);
  expect(Buffer.from(parsed!.id, 'base64url').length * 8).toBeGreaterThanOrEqual(96);
});

test('V3.2.3 the token is kept only in an HttpOnly cookie, and only its hash is stored', async () => {
  const { jar } = await signedIn();
  const parsed = parseToken(jar.cookies.get('holdfast'), app.settings.store.redis.shards)!;
  const stored = await app.engine.get(parsed.shard, parsed.id, app.clock.now);
  expect(stored).not.toBeNull();
  // SHA-256 of the secret (all of it, or its first 16 bytes in format 4), computed here
  // independently (a reversible transform fails), and the record as stored holds neither the
  // secret's text nor its bytes.
  const format = formatOf(app.engine);
  const digest = createHash('sha256').update(parsed.secret).digest();
  expect(stored!.secretHash).toEqual(digest.subarray(0, SESSION_LAYOUT[format].hashLength));
  const record = encodeSession(stored!, format);
  expect(record.includes(Buffer.from(parsed.secret))).toBe(false);
  expect(record.includes(Buffer.from(parsed.secret, 'base64url'))).toBe(false);
  expect(JSON.stringify(stored)).not.toContain(parsed.secret);
});

test('V3.2.4 tokens are random (CSPRNG): 20 logins give 20 unrelated tokens', async () => {
  const { email } = await signedIn();
  const tokens: string[] = [];
  for (let i = 0; i < 20; i++) {
    const jar = new Jar();
    await call(app.server, jar, 'POST', '/auth/login', {
      email,
      password: 'correct horse battery',
    });
    tokens.push(jar.cookies.get('holdfast') as string);
  }
  expect(new Set(tokens).size).toBe(20);
  // Distinct, and neighbours about half their bits apart: a counter or a clock fails.
  const parsed = tokens.map((t) => parseToken(t, app.settings.store.redis.shards)!);
  expectRandom(
    parsed.map((p) => Buffer.from(p.id, 'base64url')),
    96,
  );
  expectRandom(
    parsed.map((p) => Buffer.from(p.secret, 'base64url')),
    256,
  );
});

test('V3.3.1 logout ends the session; the token cannot be replayed', async () => {
  const { jar } = await signedIn();
  const copy = jar.clone();
  await call(app.server, jar, 'POST', '/auth/logout');
  expect((await call(app.server, copy, 'GET', '/auth/me')).statusCode).toBe(401);
});

test('V3.3.2 idle timeout and absolute lifetime: renewal never passes the absolute deadline', async () => {
  const { jar } = await signedIn();
  const s = app.settings.session;
  // Idle: nothing for longer than idleTtl ends the session.
  const idle = jar.clone();
  app.clock.now += s.idleTtl + 1000;
  expect((await call(app.server, idle, 'GET', '/auth/me')).statusCode).toBe(401);
  // Absolute: a request just before each idle deadline (each one renews: the gap is past
  // renewAfter) keeps a session alive only until absoluteTtl.
  const active = await signedIn();
  const start = app.clock.now;
  const step = s.idleTtl - 1000;
  let status = 200;
  while (status === 200 && app.clock.now - start < s.absoluteTtl + s.idleTtl) {
    app.clock.now += step;
    status = (await call(app.server, active.jar, 'GET', '/auth/me')).statusCode;
  }
  expect(status).toBe(401);
  expect(app.clock.now - start).toBeGreaterThanOrEqual(s.absoluteTtl);
  expect(app.clock.now - start).toBeLessThan(s.absoluteTtl + step);
});

test('V3.3.3 a password change ends every other session and remember-me series', async () => {
  const { email, jar } = await signedIn(app, true);
  const other = new Jar();
  await call(app.server, other, 'POST', '/auth/login', {
    email,
    password: 'correct horse battery',
    remember: true,
  });
  const before = jar.clone();
  const r = await call(app.server, jar, 'POST', '/auth/password', {
    currentPassword: 'correct horse battery',
    newPassword: 'brand new password',
  });
  expect(r.statusCode).toBe(200);
  expect((await call(app.server, other, 'GET', '/auth/me')).statusCode).toBe(401);
  // Every remember-me series ends, this device's own too: each cookie alone brings nothing back.
  for (const source of [before, other]) {
    const rememberOnly = new Jar();
    rememberOnly.cookies.set('holdfast_remember', source.cookies.get('holdfast_remember')!);
    expect((await call(app.server, rememberOnly, 'GET', '/auth/me')).statusCode).toBe(401);
  }
});

test('V3.3.4 users can see their active sessions and end any of them', async () => {
  const { email, jar } = await signedIn();
  const other = new Jar();
  await call(app.server, other, 'POST', '/auth/login', {
    email,
    password: 'correct horse battery',
  });
  const list = JSON.parse((await call(app.server, jar, 'GET', '/auth/sessions')).payload)
    .sessions as Array<{ id: string; current: boolean }>;
  expect(list).toHaveLength(2);
  const page = await call(app.server, jar, 'GET', '/account');
  expect(page.payload).toContain('Sign out everywhere else');
  const target = list.find((s) => !s.current)!;
  expect((await call(app.server, jar, 'DELETE', `/auth/sessions/${target.id}`)).statusCode).toBe(
    204,
  );
  expect((await call(app.server, other, 'GET', '/auth/me')).statusCode).toBe(401);
});

test('V3.3.4 a device signed out from the account page stays out: its remember-me series ends too', async () => {
  const { email, jar } = await signedIn();
  const device = new Jar();
  await call(app.server, device, 'POST', '/auth/login', {
    email,
    password: 'correct horse battery',
    remember: true,
  });
  const id = JSON.parse((await call(app.server, device, 'GET', '/auth/me')).payload).session.id;
  const page = (await call(app.server, jar, 'GET', '/account')).payload;
  const crumb = /name='crumb' value='([^']+)'/.exec(page)![1];
  const r = await app.server.inject({
    method: 'POST',
    url: `/account/sessions/${id}/revoke`,
    payload: `crumb=${encodeURIComponent(crumb)}`,
    headers: {
      cookie: jar.header() as string,
      'content-type': 'application/x-www-form-urlencoded',
    },
  });
  expect(r.statusCode).toBe(303);
  expect(r.headers.location).toBe('/account?done=revoked');
  const next = await call(app.server, device, 'GET', '/auth/me');
  expect(next.statusCode).toBe(401);
  expect(device.cookies.has('holdfast_remember')).toBe(false);
});

test('5.0 V7.4.4 every page of a signed-in user shows a logout button that works', async () => {
  const { jar } = await signedIn();
  const logout =
    /<form method='post' action='\/logout'[^>]*>\s*<input type='hidden' name='crumb' value='([^']+)' \/>\s*<button type='submit'>Log out/;
  for (const url of ['/account', '/logout']) {
    const page = await call(app.server, jar, 'GET', url);
    expect([url, page.statusCode]).toEqual([url, 200]);
    expect(page.payload).toMatch(logout);
  }
  // Signed out, the pages offer to log in instead.
  const anon = await call(app.server, null, 'GET', '/login');
  expect(anon.payload).not.toMatch(logout);
  // The button's form, as the browser would post it, ends the session.
  const crumb = logout.exec((await call(app.server, jar, 'GET', '/account')).payload)![1];
  const copy = jar.clone();
  const r = await call(app.server, jar, 'POST', '/logout', `crumb=${crumb}`, {
    'content-type': 'application/x-www-form-urlencoded',
  });
  expect(r.statusCode).toBe(303);
  expect((await call(app.server, copy, 'GET', '/auth/me')).statusCode).toBe(401);
});

test('V3.4.1-V3.4.5 cookies: Secure, HttpOnly, SameSite, __Host- prefix, Path=/', async () => {
  const email = `cookie.${Date.now()}@example.com`;
  const secure = await secureApp();
  const reg = await secure.server.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { email, password: 'correct horse battery' },
  });
  const login = await secure.server.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: 'correct horse battery', remember: true },
  });
  for (const r of [reg, login]) {
    const cookies = ([] as string[]).concat(r.headers['set-cookie'] as string[]);
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) {
      expect(c).toMatch(/^__Host-/);
      expect(c).toMatch(/; Secure/);
      expect(c).toMatch(/; HttpOnly/);
      expect(c).toMatch(/; SameSite=Lax/);
      expect(c).toMatch(/; Path=\//);
      expect(c).not.toMatch(/Domain=/i);
    }
  }
});

test('V3.7.1 changing the password requires the current password (re-authentication)', async () => {
  const { jar } = await signedIn();
  const r = await call(app.server, jar, 'POST', '/auth/password', {
    currentPassword: 'guess guess guess',
    newPassword: 'brand new password',
  });
  expect(r.statusCode).toBe(403);
  expect(JSON.parse(r.payload).code).toBe('HF_PASSWORD_MISMATCH');
});

test('V3.5 (n/a) / V13.2.3 CSRF: cross-site requests and forms without a crumb change nothing', async () => {
  const { jar } = await signedIn();
  const noCrumb = await app.server.inject({
    method: 'POST',
    url: '/account/sessions/revoke-others',
    payload: 'crumb=wrong',
    headers: {
      cookie: jar.header() as string,
      'content-type': 'application/x-www-form-urlencoded',
    },
  });
  expect(noCrumb.statusCode).toBe(403);
  expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
});

test('pages carry security headers', async () => {
  const r = await call(app.server, null, 'GET', '/login');
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(r.headers['x-frame-options']).toBe('DENY');
  expect(r.headers['x-content-type-options']).toBe('nosniff');
  expect(r.headers['cache-control']).toContain('no-store');
  expect(r.headers['referrer-policy']).toBe('same-origin');
  const s = await call((await secureApp()).server, null, 'GET', '/login');
  expect(s.headers['strict-transport-security']).toBeDefined();
});
