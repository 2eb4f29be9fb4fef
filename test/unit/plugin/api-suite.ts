/**
 * The whole JSON API through server.inject. Run against the memory store (test/unit/plugin) and
 * against a real Redis Cluster (test/integration/plugin): the same assertions on both.
 */
import type { TestApp } from './helpers';
import { call, Jar } from './helpers';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0';

let seq = 0;
export function uniqueEmail(tag = 'user'): string {
  return `${tag}.${process.pid}.${Date.now()}.${++seq}@example.com`;
}

export function apiSuite(
  name: string,
  make: () => Promise<TestApp>,
  done: (app: TestApp) => Promise<void> = async () => {},
  /**
   * A fresh app per test (cheap on the memory store): what building it runs then counts for
   * each test, so mutation testing (perTest coverage) re-runs only the tests that reach a mutant.
   */
  opts: { perTest?: boolean } = {},
) {
  describe(`JSON API (${name})`, () => {
    let app: TestApp;
    const [setUp, tearDown] = opts.perTest ? [beforeEach, afterEach] : [beforeAll, afterAll];
    setUp(async () => {
      app = await make();
    });
    tearDown(async () => {
      await done(app);
    });

    async function registered(password = 'correct horse battery') {
      const email = uniqueEmail();
      const jar = new Jar();
      const r = await call(app.server, jar, 'POST', '/auth/register', {
        email,
        password,
        name: 'Ada',
      });
      expect(r.statusCode).toBe(201);
      return { email, password, jar, user: JSON.parse(r.payload).user as { id: string } };
    }

    test('register creates the user, logs in, and /auth/me shows them', async () => {
      const email = uniqueEmail('Mixed.Case');
      const jar = new Jar();
      const r = await call(app.server, jar, 'POST', '/auth/register', {
        email: `  ${email.toUpperCase()} `,
        password: 'correct horse battery',
      });
      expect(r.statusCode).toBe(201);
      const body = JSON.parse(r.payload);
      expect(body.user.email).toBe(email.toLowerCase());
      expect(body.user).not.toHaveProperty('passwordHash');
      expect(body.session.current).toBe(true);
      const me = await call(app.server, jar, 'GET', '/auth/me');
      expect(me.statusCode).toBe(200);
      expect(JSON.parse(me.payload).user.id).toBe(body.user.id);
    });

    test('a second registration of the same email (other spelling) is 409 HF_USER_EXISTS', async () => {
      const { email } = await registered();
      const r = await call(app.server, null, 'POST', '/auth/register', {
        email: email.toUpperCase(),
        password: 'another password',
      });
      expect(r.statusCode).toBe(409);
      expect(JSON.parse(r.payload).code).toBe('HF_USER_EXISTS');
    });

    test('concurrent registrations of one email make exactly one account', async () => {
      const email = uniqueEmail('race');
      const rs = await Promise.all(
        Array.from({ length: 8 }, () =>
          call(app.server, null, 'POST', '/auth/register', {
            email,
            password: 'correct horse battery',
          }),
        ),
      );
      expect(rs.filter((r) => r.statusCode === 201)).toHaveLength(1);
      expect(rs.filter((r) => r.statusCode === 409)).toHaveLength(7);
    });

    test('login gives a new session each time; the previous session of that browser ends', async () => {
      const { email, password, jar } = await registered();
      const before = JSON.parse((await call(app.server, jar, 'GET', '/auth/me')).payload).session
        .id;
      const oldJar = jar.clone();
      const r = await call(app.server, jar, 'POST', '/auth/login', { email, password });
      expect(r.statusCode).toBe(200);
      const after = JSON.parse(r.payload).session.id;
      expect(after).not.toBe(before);
      expect((await call(app.server, oldJar, 'GET', '/auth/me')).statusCode).toBe(401);
      expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
    });

    test('wrong password and unknown email get the same 401 answer', async () => {
      const { email } = await registered();
      const a = await call(app.server, null, 'POST', '/auth/login', {
        email,
        password: 'wrong password!',
      });
      const b = await call(app.server, null, 'POST', '/auth/login', {
        email: uniqueEmail('nobody'),
        password: 'wrong password!',
      });
      expect(a.statusCode).toBe(401);
      expect(b.statusCode).toBe(401);
      expect(JSON.parse(a.payload)).toEqual(JSON.parse(b.payload));
      expect(JSON.parse(a.payload).code).toBe('HF_LOGIN_FAILED');
      expect(a.headers['set-cookie']).toBeUndefined();
    });

    test('sessions: list with device data, revoke one, revoke all others', async () => {
      const { email, password, jar } = await registered();
      const second = new Jar();
      const third = new Jar();
      await call(
        app.server,
        second,
        'POST',
        '/auth/login',
        { email, password },
        { 'user-agent': FIREFOX },
      );
      await call(
        app.server,
        third,
        'POST',
        '/auth/login',
        { email, password },
        { 'user-agent': 'Third/1.0' },
      );
      const list = JSON.parse(
        (await call(app.server, jar, 'GET', '/auth/sessions')).payload,
      ).sessions;
      expect(list).toHaveLength(3);
      expect(list.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
      // The device label, not the raw header; a header naming no known browser stays as it is.
      expect(list.map((s: { userAgent: string }) => s.userAgent)).toEqual(
        expect.arrayContaining(['Firefox 130 on Linux', 'Third/1.0']),
      );
      for (const s of list) {
        expect(s).not.toHaveProperty('secretHash');
        expect(s.ip).toBe('127.0.0.1');
        expect(Date.parse(s.lastSeenAt)).toBeGreaterThan(0);
      }
      const secondId = list.find(
        (s: { userAgent: string }) => s.userAgent === 'Firefox 130 on Linux',
      ).id;
      expect((await call(app.server, jar, 'DELETE', `/auth/sessions/${secondId}`)).statusCode).toBe(
        204,
      );
      expect((await call(app.server, second, 'GET', '/auth/me')).statusCode).toBe(401);
      const again = await call(app.server, jar, 'DELETE', `/auth/sessions/${secondId}`);
      expect(again.statusCode).toBe(404);
      expect(JSON.parse(again.payload).code).toBe('HF_SESSION_NOT_FOUND');
      const r = await call(app.server, jar, 'DELETE', '/auth/sessions');
      expect(r.statusCode).toBe(200);
      expect(JSON.parse(r.payload).revoked).toBe(1);
      expect((await call(app.server, third, 'GET', '/auth/me')).statusCode).toBe(401);
      expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
    });

    test("one user cannot revoke another user's session", async () => {
      const a = await registered();
      const b = await registered();
      const bSession = JSON.parse((await call(app.server, b.jar, 'GET', '/auth/me')).payload)
        .session.id;
      const r = await call(app.server, a.jar, 'DELETE', `/auth/sessions/${bSession}`);
      expect(r.statusCode).toBe(404);
      expect((await call(app.server, b.jar, 'GET', '/auth/me')).statusCode).toBe(200);
    });

    test('password change: checks the current password, ends other sessions, rotates this one', async () => {
      const { email, password, jar } = await registered();
      const other = new Jar();
      await call(app.server, other, 'POST', '/auth/login', { email, password, remember: true });
      const wrong = await call(app.server, jar, 'POST', '/auth/password', {
        currentPassword: 'not it at all',
        newPassword: 'a new password!',
      });
      expect(wrong.statusCode).toBe(403);
      expect(JSON.parse(wrong.payload).code).toBe('HF_PASSWORD_MISMATCH');
      const short = await call(app.server, jar, 'POST', '/auth/password', {
        currentPassword: password,
        newPassword: 'short',
      });
      expect(short.statusCode).toBe(400);
      expect(JSON.parse(short.payload).message).toMatch(/newPassword/);
      const before = jar.clone();
      const r = await call(app.server, jar, 'POST', '/auth/password', {
        currentPassword: password,
        newPassword: 'a new password!',
      });
      expect(r.statusCode).toBe(200);
      expect((await call(app.server, before, 'GET', '/auth/me')).statusCode).toBe(401);
      expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
      // The other device's session and its remember-me series are gone.
      const otherSession = new Jar();
      for (const [k, v] of other.cookies) otherSession.cookies.set(k, v);
      expect((await call(app.server, other, 'GET', '/auth/me')).statusCode).toBe(401);
      expect(
        (await call(app.server, null, 'POST', '/auth/login', { email, password })).statusCode,
      ).toBe(401);
      expect(
        (
          await call(app.server, null, 'POST', '/auth/login', {
            email,
            password: 'a new password!',
          })
        ).statusCode,
      ).toBe(200);
    });

    test('logout ends the session for good and clears both cookies', async () => {
      const { email, password } = await registered();
      const jar = new Jar();
      await call(app.server, jar, 'POST', '/auth/login', { email, password, remember: true });
      const copy = jar.clone();
      const r = await call(app.server, jar, 'POST', '/auth/logout');
      expect(r.statusCode).toBe(204);
      expect(jar.cookies.size).toBe(0);
      // Replaying the old cookies (session and remember-me) does not bring the session back.
      expect((await call(app.server, copy, 'GET', '/auth/me')).statusCode).toBe(401);
    });

    test('CSRF: a cross-site Origin or Sec-Fetch-Site is refused with 403 and changes nothing', async () => {
      const { jar } = await registered();
      const cross = await call(app.server, jar, 'DELETE', '/auth/sessions', undefined, {
        origin: 'https://evil.example',
      });
      expect(cross.statusCode).toBe(403);
      expect(JSON.parse(cross.payload).code).toBe('HF_CSRF');
      const site = await call(app.server, jar, 'POST', '/auth/logout', undefined, {
        'sec-fetch-site': 'cross-site',
      });
      expect(site.statusCode).toBe(403);
      const nul = await call(app.server, jar, 'POST', '/auth/logout', undefined, {
        origin: 'null',
      });
      expect(nul.statusCode).toBe(403);
      expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
      const same = await call(app.server, jar, 'POST', '/auth/logout', undefined, {
        origin: 'http://localhost',
        host: 'localhost',
        'sec-fetch-site': 'same-origin',
      });
      expect(same.statusCode).toBe(204);
    });

    test('a form-encoded (cross-site-postable) body is refused on the JSON API with 415', async () => {
      const email = uniqueEmail();
      const r = await app.server.inject({
        method: 'POST',
        url: '/auth/register',
        payload: `email=${encodeURIComponent(email)}&password=correct+horse+battery`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(r.statusCode).toBe(415);
      expect(JSON.parse(r.payload).code).toBe('HF_REQUEST_INVALID');
      expect(await app.users.findByEmail(email)).toBeNull();
    });

    test('login throttling: after the account limit, 429 with Retry-After, even with the right password', async () => {
      const { email, password } = await registered();
      const limit = app.settings.throttle.accountFailures;
      for (let i = 0; i < limit; i++) {
        const r = await call(
          app.server,
          null,
          'POST',
          '/auth/login',
          { email, password: 'wrong password!' },
          { 'x-test-ip': `10.1.${seq}.${i}` },
        );
        expect(r.statusCode).toBe(401);
      }
      const r = await call(
        app.server,
        null,
        'POST',
        '/auth/login',
        { email, password },
        { 'x-test-ip': '10.2.0.1' },
      );
      expect(r.statusCode).toBe(429);
      expect(JSON.parse(r.payload).code).toBe('HF_LOGIN_THROTTLED');
      expect(Number(r.headers['retry-after'])).toBe(
        Math.ceil(app.settings.throttle.baseDelay / 1000),
      );
      expect(app.events.stats.throttled.account).toBeGreaterThan(0);
    });

    test('login throttling is the same for an unknown email (no enumeration)', async () => {
      const email = uniqueEmail('ghost');
      for (let i = 0; i < app.settings.throttle.accountFailures; i++) {
        await call(app.server, null, 'POST', '/auth/login', { email, password: 'whatever it is' });
      }
      const r = await call(app.server, null, 'POST', '/auth/login', {
        email,
        password: 'whatever it is',
      });
      expect(r.statusCode).toBe(429);
    });

    test('remember-me: a new session from the cookie, token rotation, grace, then theft', async () => {
      const { email, password } = await registered();
      const jar = new Jar();
      await call(app.server, jar, 'POST', '/auth/login', { email, password, remember: true });
      const rememberName = [...jar.cookies.keys()].find((k) => k.includes('remember')) as string;
      const first = jar.cookies.get(rememberName) as string;
      expect(first).toBeTruthy();
      // The browser closed: only the remember-me cookie is left.
      const browser = new Jar();
      browser.cookies.set(rememberName, first);
      const r = await call(app.server, browser, 'GET', '/auth/me');
      expect(r.statusCode).toBe(200);
      const rotated = browser.cookies.get(rememberName);
      expect(rotated).toBeTruthy();
      expect(rotated).not.toBe(first);
      // Parallel requests that still carried the old token: within the grace window they all succeed.
      const parallel = await Promise.all(
        Array.from({ length: 5 }, () =>
          call(app.server, null, 'GET', '/auth/me', undefined, {
            cookie: `${rememberName}=${first}`,
          }),
        ),
      );
      expect(parallel.map((p) => p.statusCode)).toEqual([200, 200, 200, 200, 200]);
      // After the grace window the old token is theft: series and every session of the user end.
      app.clock.now += app.settings.session.rememberGrace + 1000;
      const theft = await call(app.server, null, 'GET', '/auth/me', undefined, {
        cookie: `${rememberName}=${first}`,
      });
      expect(theft.statusCode).toBe(401);
      expect((await call(app.server, browser, 'GET', '/auth/me')).statusCode).toBe(401);
      expect(app.events.stats.thefts).toBeGreaterThan(0);
    });

    test('bad input: each gets a clear 4xx naming the field, and nothing is stored', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ email: 'x'.repeat(250) + '@example.com', password: 'correct horse battery' }, /email/],
        [{ email: 'no-at-sign', password: 'correct horse battery' }, /email/],
        [{ email: uniqueEmail(), password: 'short' }, /password/],
        [{ email: uniqueEmail(), password: 'x'.repeat(5000) }, /password/],
        [{ email: uniqueEmail(), password: 123456789 }, /password/],
        [
          {
            email: "x' OR 1=1;--@example.com",
            password: 'correct horse battery',
            name: '<script>alert(1)</script>'.repeat(10),
          },
          /name/,
        ],
        [{ password: 'correct horse battery' }, /email/],
        [{ email: uniqueEmail(), password: 'correct horse battery', admin: true }, /admin/],
      ];
      for (const [payload, field] of cases) {
        const r = await call(app.server, null, 'POST', '/auth/register', payload);
        expect(r.statusCode).toBe(400);
        const body = JSON.parse(r.payload);
        expect(['HF_REQUEST_INVALID', 'HF_USER_INVALID']).toContain(body.code);
        expect(body.message).toMatch(field);
        const email = (payload as { email?: unknown }).email;
        if (typeof email === 'string') expect(await app.users.findByEmail(email)).toBeNull();
      }
      const notJson = await app.server.inject({
        method: 'POST',
        url: '/auth/login',
        payload: '{"email":',
        headers: { 'content-type': 'application/json' },
      });
      expect(notJson.statusCode).toBe(400);
      const big = await app.server.inject({
        method: 'POST',
        url: '/auth/login',
        payload: JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(20000) }),
        headers: { 'content-type': 'application/json' },
      });
      expect(big.statusCode).toBe(413);
    });

    test('unicode and SQL/HTML-looking emails are stored verbatim (normalised) and round-trip', async () => {
      const email = `ünï.${Date.now()}.${++seq}@exämple.com`;
      const jar = new Jar();
      const r = await call(app.server, jar, 'POST', '/auth/register', {
        email: email.normalize('NFD'),
        password: 'correct horse battery',
        name: `<b>Robert'); DROP TABLE users;--</b>`,
      });
      expect(r.statusCode).toBe(201);
      expect(JSON.parse(r.payload).user.email).toBe(email.normalize('NFC'));
      const login = await call(app.server, null, 'POST', '/auth/login', {
        email: email.normalize('NFC').toUpperCase(),
        password: 'correct horse battery',
      });
      expect(login.statusCode).toBe(200);
    });

    test('malformed, tampered and oversized cookies are just "no session" (401), never a 400 or 500', async () => {
      const { jar } = await registered();
      const [name, value] = [...jar.cookies].find(([k]) => !k.includes('remember')) as [
        string,
        string,
      ];
      const tampered = value.slice(0, -2) + (value.endsWith('AA') ? 'BB' : 'AA');
      for (const cookie of [
        `${name}=${tampered}`,
        `${name}=garbage`,
        `${name}="quoted;value"`,
        `${name}=${'A'.repeat(4000)}`,
        `${name}=${value.replace(/^\d+/, '99999')}`,
      ]) {
        const r = await call(app.server, null, 'GET', '/auth/me', undefined, { cookie });
        expect(r.statusCode).toBe(401);
      }
      expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
    });

    test('GET /auth/openapi.json lists every route', async () => {
      const r = await call(app.server, null, 'GET', '/auth/openapi.json');
      expect(r.statusCode).toBe(200);
      const doc = JSON.parse(r.payload);
      for (const path of [
        '/auth/register',
        '/auth/login',
        '/auth/logout',
        '/auth/me',
        '/auth/sessions',
        '/auth/sessions/{id}',
        '/auth/password',
        '/auth/openapi.json',
      ]) {
        expect(doc.paths).toHaveProperty([path]);
      }
    });
  });
}
