/**
 * The whole JSON API through server.inject. Run against the memory store (test/unit/plugin) and
 * against a real Redis Cluster (test/integration/plugin): the same assertions on both.
 */
import { cookieNames } from '../../../src/auth/cookies';
import { newId, newSecret } from '../../../src/session/token';
import { PasswordHasher } from '../../../src/users';
import type { TestApp } from '../app';
import { call, Jar } from '../inject';
import { series, session, stored } from '../store-fixtures';

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

    test('a format 4 session (16-char id) is listed and revoked like a 22-char one; other id lengths are 400', async () => {
      const { jar, user } = await registered();
      // The store holds a session with a 16-char id beside the 22-char one registration made.
      const shard = Number([...jar.cookies.values()][0].split('.')[0]);
      const compact = session(user.id, app.clock.now, { id: newId(12) });
      expect(compact.id).toHaveLength(16);
      expect(await app.engine.create(shard, stored(compact), 10)).not.toBeNull();
      const listed = JSON.parse((await call(app.server, jar, 'GET', '/auth/sessions')).payload);
      expect(listed.sessions.map((s: { id: string }) => s.id)).toContain(compact.id);
      // Its cookie signs in (the token takes a 16-char id), until it is revoked.
      const device = new Jar();
      device.cookies.set(
        cookieNames(app.settings.cookie).session,
        `${shard}.${compact.id}.${compact.secret}`,
      );
      const me = await call(app.server, device, 'GET', '/auth/me');
      expect([me.statusCode, JSON.parse(me.payload).session?.id]).toEqual([200, compact.id]);
      const del = (id: string) => call(app.server, jar, 'DELETE', `/auth/sessions/${id}`);
      expect((await del(compact.id)).statusCode).toBe(204);
      expect((await call(app.server, device, 'GET', '/auth/me')).statusCode).toBe(401);
      // A remember-me cookie whose series id has 16 chars brings a new session.
      const token = newSecret();
      const remembered = series(user.id, app.clock.now, token, { id: newId(12) });
      expect(await app.engine.createSeries(shard, remembered, 5)).toBe(true);
      const returning = new Jar();
      returning.cookies.set(
        cookieNames(app.settings.cookie).remember,
        `${shard}.${remembered.id}.${token}`,
      );
      expect((await call(app.server, returning, 'GET', '/auth/me')).statusCode).toBe(200);
      expect((await del(compact.id)).statusCode).toBe(404);
      expect((await del('A'.repeat(22))).statusCode).toBe(404);
      for (const n of [1, 15, 17, 21, 23, 32])
        expect((await del('A'.repeat(n))).statusCode).toBe(400);
      expect((await del(`${'A'.repeat(15)}~`)).statusCode).toBe(400);
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

    test('password change vs logins with the old password in flight: none keeps a session, 20 rounds', async () => {
      // A login reads the user, spends a scrypt verification, then creates its session; the
      // change commits and ends every session meanwhile. Logins keep starting until the change
      // answers, so some are in flight when it commits (ADR 040).
      let succeeded = 0;
      for (let round = 0; round < 20; round++) {
        const { email, password, jar } = await registered();
        let changing = true;
        const change = call(app.server, jar, 'POST', '/auth/password', {
          currentPassword: password,
          newPassword: 'a new password!',
        }).finally(() => (changing = false));
        const browsers: Jar[] = [];
        const worker = async (w: number) => {
          for (let i = 0; changing && i < 6; i++) {
            const browser = new Jar();
            const r = await call(
              app.server,
              browser,
              'POST',
              '/auth/login',
              { email, password, remember: w === 0 },
              { 'x-test-ip': `10.8.${round}.${w}` },
            );
            if (r.statusCode !== 200) {
              expect([401]).toContain(r.statusCode);
              expect(['HF_LOGIN_FAILED', 'HF_CREDENTIALS_CHANGED']).toContain(
                JSON.parse(r.payload).code,
              );
              return; // at most one failure per worker: the account throttle stays below its limit
            }
            browsers.push(browser);
          }
        };
        await Promise.all([change, worker(0), worker(1), worker(2)]);
        expect((await change).statusCode).toBe(200);
        succeeded += browsers.length;
        // Neither the session nor a remember-me series of any old-password login is usable.
        for (const browser of browsers)
          expect((await call(app.server, browser, 'GET', '/auth/me')).statusCode).toBe(401);
        expect(
          (await call(app.server, null, 'POST', '/auth/login', { email, password })).statusCode,
        ).toBe(401);
        expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
      }
      expect(succeeded).toBeGreaterThan(0);
    }, 180_000);

    test('a re-hash racing a password change never brings the old password back (hash at cost 2^10, app at 2^12), 4 rounds', async () => {
      const weak = new PasswordHasher(1024);
      const strong = new PasswordHasher(app.settings.password.cost);
      expect(strong.cost).toBeGreaterThan(weak.cost);
      const names = cookieNames(app.settings.cookie);
      // Logins start spread over the time one hash takes, so their re-hash writes land after the
      // change's write while they all still verified the old, cheap hash.
      let hashMs = Date.now();
      await strong.hash('warm up');
      hashMs = Math.max(4, Date.now() - hashMs);
      const password = 'correct horse battery';
      for (let round = 0; round < 4; round++) {
        const email = uniqueEmail('rehash');
        const user = await app.users.create({ email, passwordHash: await weak.hash(password) });
        // A session without a login (a login would re-hash before the race starts).
        const jar = new Jar();
        const { token } = await app.sessions.create(
          user.id,
          { ip: '127.0.0.1', userAgent: 'test' },
          'password',
        );
        jar.cookies.set(names.session, token);
        const change = call(app.server, jar, 'POST', '/auth/password', {
          currentPassword: password,
          newPassword: 'a new password!',
        });
        const logins = await Promise.all(
          [0, 1, 2, 3].map(async (i) => {
            await new Promise((resolve) => setTimeout(resolve, (i * hashMs) / 3));
            const browser = new Jar();
            const r = await call(
              app.server,
              browser,
              'POST',
              '/auth/login',
              { email, password },
              { 'x-test-ip': `10.7.${round}.${i}` },
            );
            return { r, browser };
          }),
        );
        expect((await change).statusCode).toBe(200);
        const stored = (await app.users.findById(user.id))?.passwordHash ?? '';
        expect((await strong.verify('a new password!', stored)).ok).toBe(true);
        expect((await strong.verify(password, stored)).ok).toBe(false);
        for (const { r, browser } of logins) {
          expect([200, 401]).toContain(r.statusCode);
          expect((await call(app.server, browser, 'GET', '/auth/me')).statusCode).toBe(401);
        }
        const old = await call(app.server, null, 'POST', '/auth/login', { email, password });
        expect(old.statusCode).toBe(401);
        const fresh = await call(app.server, null, 'POST', '/auth/login', {
          email,
          password: 'a new password!',
        });
        expect(fresh.statusCode).toBe(200);
      }
    }, 120_000);

    test('revoking one device ends its remember-me series: that device stays signed out', async () => {
      const { email, password, jar } = await registered();
      const device = new Jar();
      await call(app.server, device, 'POST', '/auth/login', { email, password, remember: true });
      const kept = new Jar();
      await call(app.server, kept, 'POST', '/auth/login', { email, password, remember: true });
      const id = JSON.parse((await call(app.server, device, 'GET', '/auth/me')).payload).session.id;
      expect((await call(app.server, jar, 'DELETE', `/auth/sessions/${id}`)).statusCode).toBe(204);
      // Its session cookie fails, and its remember-me cookie brings no new session.
      const next = await call(app.server, device, 'GET', '/auth/me');
      expect(next.statusCode).toBe(401);
      expect(device.cookies.size).toBe(0);
      // A session made from a series belongs to it too: revoking that one ends the series.
      const names = [...kept.cookies.keys()];
      const rememberOnly = new Jar();
      for (const name of names.filter((k) => k.includes('remember')))
        rememberOnly.cookies.set(name, kept.cookies.get(name)!);
      const fromSeries = await call(app.server, rememberOnly, 'GET', '/auth/me');
      expect(fromSeries.statusCode).toBe(200);
      const madeId = JSON.parse(fromSeries.payload).session.id;
      expect((await call(app.server, jar, 'DELETE', `/auth/sessions/${madeId}`)).statusCode).toBe(
        204,
      );
      expect((await call(app.server, rememberOnly, 'GET', '/auth/me')).statusCode).toBe(401);
      expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
    });

    test("logout ends a remember-me series only with its token: another browser's series id alone ends nothing", async () => {
      const { email, password } = await registered();
      const victim = new Jar();
      await call(app.server, victim, 'POST', '/auth/login', { email, password, remember: true });
      const [name, value] = [...victim.cookies].find(([k]) => k.includes('remember'))!;
      const [shard, series] = value.split('.');
      // Someone signed in on their own account logs out carrying the victim's series id.
      const other = await registered();
      const session = [...other.jar.cookies].find(([k]) => !k.includes('remember'))!;
      const r = await call(app.server, null, 'POST', '/auth/logout', undefined, {
        cookie: `${session[0]}=${session[1]}; ${name}=${shard}.${series}.${'A'.repeat(43)}`,
      });
      expect(r.statusCode).toBe(204);
      expect((await call(app.server, other.jar, 'GET', '/auth/me')).statusCode).toBe(401);
      const rememberOnly = new Jar();
      rememberOnly.cookies.set(name, value);
      expect((await call(app.server, rememberOnly, 'GET', '/auth/me')).statusCode).toBe(200);
      // With its own (rotated) token, logout does end the series.
      const current = rememberOnly.cookies.get(name)!;
      await call(app.server, rememberOnly, 'POST', '/auth/logout');
      const again = new Jar();
      again.cookies.set(name, current);
      expect((await call(app.server, again, 'GET', '/auth/me')).statusCode).toBe(401);
    });

    test('a disabled or deleted user: every session and series ends, sign-in is refused', async () => {
      for (const action of ['disable', 'delete'] as const) {
        const { email, password, jar, user } = await registered();
        const remembered = new Jar();
        await call(app.server, remembered, 'POST', '/auth/login', {
          email,
          password,
          remember: true,
        });
        const done =
          action === 'disable'
            ? await app.accounts.disableUser(user.id)
            : await app.accounts.deleteUser(user.id);
        expect(done).toBe(true);
        expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(401);
        expect((await call(app.server, remembered, 'GET', '/auth/me')).statusCode).toBe(401);
        const login = await call(app.server, null, 'POST', '/auth/login', { email, password });
        if (action === 'disable') {
          expect(login.statusCode).toBe(403);
          expect(JSON.parse(login.payload).code).toBe('HF_ACCOUNT_DISABLED');
          // A wrong password says nothing about the account.
          const wrong = await call(app.server, null, 'POST', '/auth/login', {
            email,
            password: 'wrong password!',
          });
          expect(JSON.parse(wrong.payload).code).toBe('HF_LOGIN_FAILED');
        } else {
          expect(login.statusCode).toBe(401);
          expect(await app.users.findByEmail(email)).toBeNull();
        }
        // Nothing made under the user's old credentials can appear later.
        await expect(
          app.sessions.create(user.id, { ip: '127.0.0.1', userAgent: 'test' }, 'password', {
            credentialVersion: 0,
          }),
        ).rejects.toMatchObject({ code: 'HF_CREDENTIALS_CHANGED' });
      }
    });

    test('enable after disable: the password signs in again; the old session and remember-me cookie stay refused', async () => {
      const { email, password, jar, user } = await registered();
      const remembered = new Jar();
      await call(app.server, remembered, 'POST', '/auth/login', {
        email,
        password,
        remember: true,
      });
      const cookieOnly = new Jar();
      const rememberCookie = [...remembered.cookies].find(([k]) => k.includes('remember'))!;
      cookieOnly.cookies.set(rememberCookie[0], rememberCookie[1]);
      expect(await app.accounts.disableUser(user.id)).toBe(true);
      expect(await app.accounts.enableUser(user.id)).toBe(true);
      expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(401);
      expect((await call(app.server, cookieOnly, 'GET', '/auth/me')).statusCode).toBe(401);
      const again = new Jar();
      const login = await call(app.server, again, 'POST', '/auth/login', { email, password });
      expect(login.statusCode).toBe(200);
      expect((await call(app.server, again, 'GET', '/auth/me')).statusCode).toBe(200);
    });

    test('password change: wrong current passwords count like failed logins (429 with Retry-After, even when right); a right one resets the count', async () => {
      const { email, password, jar } = await registered();
      const limit = app.settings.throttle.accountFailures;
      const round = ++seq;
      const change = (currentPassword: string, i: number) =>
        call(
          app.server,
          jar,
          'POST',
          '/auth/password',
          { currentPassword, newPassword: 'a new password!' },
          // Another address each time: the account's own counter is what stops the guessing.
          { 'x-test-ip': `10.3.${round % 250}.${i}` },
        );
      for (let i = 0; i < limit - 1; i++)
        expect((await change('wrong password!', i)).statusCode).toBe(403);
      expect((await change(password, 100)).statusCode).toBe(200);
      // The success reset the count: `limit` more wrong guesses are each a plain 403 ...
      for (let i = 0; i < limit; i++) {
        const r = await change('wrong password!', 110 + i);
        expect(r.statusCode).toBe(403);
        expect(JSON.parse(r.payload).code).toBe('HF_PASSWORD_MISMATCH');
      }
      // ... and past the limit even the right password is refused, as is a login to the account.
      const r = await change('a new password!', 200);
      expect(r.statusCode).toBe(429);
      expect(JSON.parse(r.payload).code).toBe('HF_LOGIN_THROTTLED');
      expect(Number(r.headers['retry-after'])).toBe(
        Math.ceil(app.settings.throttle.baseDelay / 1000),
      );
      const login = await call(
        app.server,
        null,
        'POST',
        '/auth/login',
        { email, password: 'a new password!' },
        { 'x-test-ip': `10.4.${round % 250}.1` },
      );
      expect(login.statusCode).toBe(429);
      // Nothing changed: the session still works, the new password is still the one set above.
      expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
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
        '/auth/reauth',
        '/auth/identities',
        '/auth/identities/{provider}',
        '/auth/openapi.json',
      ]) {
        expect(doc.paths).toHaveProperty([path]);
      }
      // And every JSON route the server has, with its method.
      for (const route of app.server.table()) {
        if (!route.path.startsWith('/auth/') || route.path.startsWith('/auth/assets/')) continue;
        if (route.method === '*') continue; // the 405 for other methods, not an operation
        expect(doc.paths[route.path]).toHaveProperty([route.method]);
      }
    });
  });
}
