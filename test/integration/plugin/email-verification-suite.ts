/**
 * Email verification and the security notices (issue 9 items 2 and 6), over HTTP with a real SMTP
 * server on loopback (test/support/smtp-server.ts): every message is received over SMTP and parsed
 * by mailparser, its link followed the way the /verify-email page does (a POST of the token). Run
 * over the memory store and Redis Cluster (the *.test.ts files beside this one).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { escapeHtml } from '../../../src/mail';
import type { StoreEngine } from '../../../src/store';
import { startSmtpServer, linkIn, TestSmtpServer, ReceivedMail } from '../../support/smtp-server';
import { uniqueEmail } from '../../support/suites/api-suite';
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

const PASSWORD = 'correct horse battery';
const LINK_BASE = 'http://holdfast.test';

export interface VerificationSetup {
  /** A fresh engine for one app (memory: its own; Redis: a client of the suite's cluster). */
  engine(): Promise<StoreEngine | undefined>;
  /** Settings of the store (merged into every app's settings). */
  store(): object;
  teardown(): Promise<void>;
}

export function verificationSuite(name: string, setup: VerificationSetup): void {
  describe(`email verification and security notices (${name})`, () => {
    let smtp: TestSmtpServer;
    let app: TestApp;
    let strict: TestApp;
    const logLines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      }),
    );
    const engines: StoreEngine[] = [];

    async function build(overrides: object, mail?: object): Promise<TestApp> {
      const engine = await setup.engine();
      if (engine) engines.push(engine);
      const settings = testSettings({
        mail: mail ?? smtp.mailSettings(LINK_BASE),
        throttle: { verifyPerAccount: 2, verifyPerAddress: 1000 },
        ...setup.store(),
        ...overrides,
      });
      return buildTestApp({ settings, engine, logger, extra: { logger } });
    }

    beforeAll(async () => {
      smtp = await startSmtpServer();
      app = await build({});
      strict = await build({ accounts: { requireVerifiedEmail: true } });
    });

    afterAll(async () => {
      await app?.verification?.idle();
      await strict?.verification?.idle();
      for (const e of engines) await e.stop();
      await setup.teardown();
      await smtp?.stop();
    });

    async function register(target = app, email = uniqueEmail('verify')) {
      const jar = new Jar();
      const res = await call(target.server, jar, 'POST', '/auth/register', {
        email,
        password: PASSWORD,
      });
      expect(res.statusCode).toBe(201);
      return { jar, email, body: JSON.parse(res.payload), userId: JSON.parse(res.payload).user.id };
    }

    /** The token of a verification message, checked to be a link under mail.linkBase. */
    function tokenOf(mail: ReceivedMail): string {
      const link = linkIn(mail, '/verify-email');
      expect(link.origin + link.pathname).toBe(`${LINK_BASE}/verify-email`);
      const token = link.searchParams.get('token') ?? '';
      expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      return token;
    }

    const verifyWith = (target: TestApp, token: string, jar: Jar | null = null) =>
      call(target.server, jar, 'POST', '/auth/verify-email', { token });

    const verified = async (target: TestApp, email: string) =>
      (await target.users.findByEmail(email))?.emailVerified;

    test('registration mails a verify link under mail.linkBase; following it (POST of the token) verifies, once', async () => {
      const before = app.events.stats.registrations;
      const { jar, email, userId } = await register();
      expect(app.events.stats.registrations).toBe(before + 1);
      const mail = await smtp.nextTo(email);
      expect(mail).toMatchObject({ kind: 'verify', subject: 'Confirm your email address' });
      expect(mail.from).toBe('no-reply@holdfast.test');
      const token = tokenOf(mail);
      // In the HTML part as an escaped attribute (`=` is &#61;), the same link.
      expect(mail.html).toContain(
        `href="${escapeHtml(`${LINK_BASE}/verify-email?token=${token}`)}"`,
      );
      expect(mail.text).toMatch(/within 24 hours/);
      expect(await verified(app, email)).toBe(false);

      const events: unknown[] = [];
      const listener = (e: unknown) => events.push(e);
      app.events.on('emailVerified', listener);
      const res = await verifyWith(app, token, jar);
      app.events.off('emailVerified', listener);
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.payload).user).toMatchObject({
        id: userId,
        email,
        emailVerified: true,
      });
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(events).toEqual([{ userId }]);
      expect(await verified(app, email)).toBe(true);
      const me = await call(app.server, jar, 'GET', '/auth/me');
      expect(JSON.parse(me.payload).user.emailVerified).toBe(true);

      // Used once: the same link again is the one clear 400, and nothing changes.
      const again = await verifyWith(app, token);
      expect(again.statusCode).toBe(400);
      expect(JSON.parse(again.payload).code).toBe('HF_ACCOUNT_TOKEN_INVALID');
      // No audit line or log line ever carries the token.
      expect(logLines.join('\n')).not.toContain(token.split('.')[1]);
    });

    test('the page: GET /verify-email shows a button and does not use the token (mail scanners); its POST verifies', async () => {
      const { email } = await register();
      const token = tokenOf(await smtp.nextTo(email));
      for (let i = 0; i < 2; i++) {
        const page = await call(app.server, null, 'GET', `/verify-email?token=${token}`);
        expect(page.statusCode).toBe(200);
        // Origin only in any Referer (not no-referrer: browsers would send Origin: null on the POST).
        expect(page.headers['referrer-policy']).toBe('strict-origin');
        expect(page.headers['cache-control']).toMatch(/no-store/);
        expect(page.payload).toContain(`<input type='hidden' name='token' value='${token}' />`);
        expect(page.payload).toContain("action='/verify-email'");
      }
      expect(await verified(app, email)).toBe(false);
      const post = await app.server.inject({
        method: 'POST',
        url: '/verify-email',
        payload: new URLSearchParams({ token }).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'http://localhost',
        },
      });
      // The Origin check of every page POST refuses another site first.
      expect(post.statusCode).toBe(403);
      expect(await verified(app, email)).toBe(false);
      const ok = await app.server.inject({
        method: 'POST',
        url: '/verify-email',
        payload: new URLSearchParams({ token }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['referrer-policy']).toBe('strict-origin');
      expect(ok.payload).toContain('Your email address is confirmed.');
      expect(await verified(app, email)).toBe(true);
      const reused = await app.server.inject({
        method: 'POST',
        url: '/verify-email',
        payload: new URLSearchParams({ token }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(reused.statusCode).toBe(400);
      expect(reused.payload).toMatch(/this link is not valid/);
    });

    test('bad tokens (expired, tampered, malformed, a reset token, another address, another user, a disabled account) give HF_ACCOUNT_TOKEN_INVALID and change nothing', async () => {
      const a = await register();
      const tokenA = tokenOf(await smtp.nextTo(a.email));
      const b = await register();
      const tokenB = tokenOf(await smtp.nextTo(b.email));
      const [id, secret] = tokenA.split('.');
      const flipped = `${id}.${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`;
      const resetKind = (await app.tokens.issue('reset', a.userId, 0, 60_000)).token;
      // A verify token of this user, but for an address the account does not have.
      const otherAddress = (
        await app.tokens.issue('verify', b.userId, 0, 60_000, uniqueEmail('elsewhere'))
      ).token;
      const cases: Array<[string, string, Jar | null]> = [
        ['tampered', flipped, null],
        ['malformed', `${tokenA}x`, null],
        ['empty-ish', '.', null],
        ['reset kind', resetKind, null],
        ['another user signed in', tokenA, b.jar],
      ];
      for (const [label, token, jar] of cases) {
        const res = await verifyWith(app, token, jar);
        expect([label, res.statusCode]).toEqual([label, 400]);
        expect([label, JSON.parse(res.payload)]).toEqual([
          label,
          {
            statusCode: 400,
            error: 'Bad Request',
            code: 'HF_ACCOUNT_TOKEN_INVALID',
            message:
              'this link is not valid: it has expired, was already used, or was replaced by a newer one. Ask for a new one.',
          },
        ]);
      }
      // otherAddress replaced b's outstanding token (one per user and kind): b's link is gone too.
      const bound = await verifyWith(app, otherAddress);
      expect(JSON.parse(bound.payload).code).toBe('HF_ACCOUNT_TOKEN_INVALID');
      expect((await verifyWith(app, tokenB)).statusCode).toBe(400);
      expect(await verified(app, a.email)).toBe(false);
      expect(await verified(app, b.email)).toBe(false);
      // The reset token was not used up by the attempt: it is still the user's reset token.
      expect(await app.tokens.check('reset', resetKind)).toMatchObject({ userId: a.userId });

      // After all that, a's own link still works: nothing above used it.
      expect((await verifyWith(app, tokenA, a.jar)).statusCode).toBe(200);
      expect(await verified(app, a.email)).toBe(true);

      // Expired: past tokens.verifyTtl the link does nothing.
      const c = await register();
      const tokenC = tokenOf(await smtp.nextTo(c.email));
      app.clock.now += app.settings.tokens.verifyTtl + 1;
      expect((await verifyWith(app, tokenC)).statusCode).toBe(400);
      expect(await verified(app, c.email)).toBe(false);

      // A disabled account is never verified by its link.
      const d = await register();
      const tokenD = tokenOf(await smtp.nextTo(d.email));
      await app.accounts.disableUser(d.userId);
      expect((await verifyWith(app, tokenD)).statusCode).toBe(400);
      expect((await app.users.findByEmail(d.email))?.emailVerified).toBe(false);
    });

    test('send again: signed in or by address; the newest link only; throttled per account (429 HF_VERIFY_THROTTLED); unknown addresses answer alike', async () => {
      const { jar, email } = await register();
      const first = tokenOf(await smtp.nextTo(email));
      const again = await call(app.server, jar, 'POST', '/auth/verify-email/send', {});
      expect(again.statusCode).toBe(202);
      expect(JSON.parse(again.payload)).toEqual({ accepted: true });
      const second = tokenOf(await smtp.nextTo(email));
      expect(second).not.toBe(first);
      // Only the newest link works.
      expect((await verifyWith(app, first)).statusCode).toBe(400);

      const unknown = uniqueEmail('nobody');
      const anon = await call(app.server, null, 'POST', '/auth/verify-email/send', {
        email: unknown,
      });
      expect(anon.statusCode).toBe(202);
      expect(anon.payload).toBe(again.payload);
      await smtp.expectNoMailTo(unknown);
      const byAddress = await call(app.server, null, 'POST', '/auth/verify-email/send', {
        email: email.toUpperCase(),
      });
      expect(byAddress.statusCode).toBe(202);
      const third = tokenOf(await smtp.nextTo(email));
      // throttle.verifyPerAccount is 2 here: the third request within the window waits.
      const over = await call(app.server, jar, 'POST', '/auth/verify-email/send', {});
      expect(over.statusCode).toBe(429);
      expect(JSON.parse(over.payload).code).toBe('HF_VERIFY_THROTTLED');
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      await smtp.expectNoMailTo(email);
      // An anonymous request needs the address.
      const none = await call(app.server, null, 'POST', '/auth/verify-email/send', {});
      expect(none.statusCode).toBe(400);
      expect(JSON.parse(none.payload).code).toBe('HF_REQUEST_INVALID');

      expect((await verifyWith(app, third)).statusCode).toBe(200);
      // Verified: asking again mails nothing (and answers the same).
      app.clock.now += app.settings.throttle.window + 1;
      const done = await call(app.server, null, 'POST', '/auth/verify-email/send', { email });
      expect(done.statusCode).toBe(202);
      await app.verification!.idle();
      await smtp.expectNoMailTo(email);
    });

    test('/account shows the state and a send-again button; the button mails a new link', async () => {
      const { jar, email } = await register();
      await smtp.nextTo(email);
      const page = await call(app.server, jar, 'GET', '/account');
      expect(page.payload).toMatch(/Your\s+email\s+address\s+is\s+not\s+confirmed\s+yet/);
      const crumb = /name='crumb' value='([^']+)'/.exec(page.payload)![1];
      expect(page.payload).toContain("action='/account/verify-email/send'");
      const sent = await call(
        app.server,
        jar,
        'POST',
        '/account/verify-email/send',
        new URLSearchParams({ crumb }).toString(),
        { 'content-type': 'application/x-www-form-urlencoded' },
      );
      expect(sent.statusCode).toBe(303);
      expect(sent.headers.location).toBe('/account?done=verify-sent');
      const token = tokenOf(await smtp.nextTo(email));
      expect((await verifyWith(app, token)).statusCode).toBe(200);
      const after = await call(app.server, jar, 'GET', '/account');
      expect(after.payload).toMatch(/Your\s+email\s+address\s+is\s+confirmed\./);
      expect(after.payload).not.toContain("action='/account/verify-email/send'");
    });

    test('accounts.requireVerifiedEmail: no session at registration; login refused with HF_EMAIL_UNVERIFIED only after the right password; allowed once verified', async () => {
      const email = uniqueEmail('strict');
      const jar = new Jar();
      const reg = await call(strict.server, jar, 'POST', '/auth/register', {
        email,
        password: PASSWORD,
      });
      expect(reg.statusCode).toBe(201);
      expect(JSON.parse(reg.payload)).toMatchObject({
        user: { email, emailVerified: false },
        session: null,
        verificationRequired: true,
      });
      expect(jar.cookies.size).toBe(0);
      const token = tokenOf(await smtp.nextTo(email));

      const failures = strict.events.stats.loginFailures.unverified;
      const refused = await call(strict.server, jar, 'POST', '/auth/login', {
        email,
        password: PASSWORD,
      });
      expect(refused.statusCode).toBe(403);
      expect(JSON.parse(refused.payload)).toMatchObject({
        code: 'HF_EMAIL_UNVERIFIED',
        message: expect.stringMatching(/confirm your email address first/),
      });
      expect(strict.events.stats.loginFailures.unverified).toBe(failures + 1);
      expect(jar.cookies.size).toBe(0);
      // A wrong password learns nothing about the account's state.
      const wrong = await call(strict.server, null, 'POST', '/auth/login', {
        email,
        password: 'wrong password!',
      });
      expect(wrong.statusCode).toBe(401);
      expect(JSON.parse(wrong.payload).code).toBe('HF_LOGIN_FAILED');

      // The login page offers the link again after the right password.
      const form = await strict.server.inject({
        method: 'POST',
        url: '/login',
        payload: new URLSearchParams({ email, password: PASSWORD }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.statusCode).toBe(403);
      expect(form.payload).toContain("action='/verify-email/send'");
      expect(form.payload).toContain(`name='email' value='${email}'`);
      const resend = await strict.server.inject({
        method: 'POST',
        url: '/verify-email/send',
        payload: new URLSearchParams({ email }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(resend.statusCode).toBe(200);
      expect(resend.payload).toMatch(/we mailed it a link/);
      const newer = tokenOf(await smtp.nextTo(email));
      expect(newer).not.toBe(token);

      expect((await verifyWith(strict, newer)).statusCode).toBe(200);
      const ok = await call(strict.server, jar, 'POST', '/auth/login', {
        email,
        password: PASSWORD,
      });
      expect(ok.statusCode).toBe(200);
      expect(JSON.parse(ok.payload).user.emailVerified).toBe(true);

      // The register page of a strict site sends the browser to the login page with a notice.
      const page = await strict.server.inject({
        method: 'POST',
        url: '/register',
        payload: new URLSearchParams({
          email: uniqueEmail('strict.page'),
          password: PASSWORD,
        }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(page.statusCode).toBe(303);
      expect(page.headers.location).toBe('/login?done=registered');
      expect(page.headers['set-cookie']).toBeUndefined();
      const login = await strict.server.inject('/login?done=registered');
      expect(login.payload).toMatch(/We mailed you a link/);
    });

    test('the routes are in the OpenAPI document and follow the CSRF and media-type rules of every route', async () => {
      const doc = JSON.parse((await call(app.server, null, 'GET', '/auth/openapi.json')).payload);
      expect(doc.paths['/auth/verify-email'].post).toMatchObject({
        operationId: 'verifyEmail',
        requestBody: { required: true },
      });
      expect(Object.keys(doc.paths['/auth/verify-email'].post.responses)).toEqual(
        expect.arrayContaining(['200', '400', '403', '415']),
      );
      expect(doc.paths['/auth/verify-email/send'].post).toMatchObject({
        operationId: 'sendVerification',
      });
      expect(Object.keys(doc.paths['/auth/verify-email/send'].post.responses)).toEqual(
        expect.arrayContaining(['202', '429', '403']),
      );
      // A page of the site, not an API route: not in the document.
      expect(doc.paths['/verify-email']).toBeUndefined();

      const { email } = await register();
      const token = tokenOf(await smtp.nextTo(email));
      const crossSite = await call(
        app.server,
        null,
        'POST',
        '/auth/verify-email',
        { token },
        { origin: 'https://evil.example' },
      );
      expect(crossSite.statusCode).toBe(403);
      expect(JSON.parse(crossSite.payload).code).toBe('HF_CSRF');
      const typeless = await app.server.inject({
        method: 'POST',
        url: '/auth/verify-email',
        payload: Buffer.from(JSON.stringify({ token })),
      });
      expect(typeless.statusCode).toBe(415);
      const sendCrossSite = await call(
        app.server,
        null,
        'POST',
        '/auth/verify-email/send',
        { email },
        { origin: 'https://evil.example' },
      );
      expect(sendCrossSite.statusCode).toBe(403);
      await smtp.expectNoMailTo(email);
      // None of that used the link.
      expect(await verified(app, email)).toBe(false);
      expect((await verifyWith(app, token)).statusCode).toBe(200);
    });

    test('remember-me theft mails a notice to the account (no cookie in it) and records notified', async () => {
      const { email } = await register();
      await smtp.nextTo(email); // the verification message
      const jar = new Jar();
      await call(app.server, jar, 'POST', '/auth/login', {
        email,
        password: PASSWORD,
        remember: true,
      });
      const rememberName = [...jar.cookies.keys()].find((k) => k.includes('remember'))!;
      const first = jar.cookies.get(rememberName)!;
      const browser = new Jar();
      browser.cookies.set(rememberName, first);
      expect((await call(app.server, browser, 'GET', '/auth/me')).statusCode).toBe(200);
      const notified: unknown[] = [];
      const listener = (e: unknown) => notified.push(e);
      app.events.on('notified', listener);
      app.clock.now += app.settings.session.rememberGrace + 1000;
      const started = Date.now();
      const theft = await call(app.server, null, 'GET', '/auth/me', undefined, {
        cookie: `${rememberName}=${first}`,
      });
      expect(theft.statusCode).toBe(401);
      const mail = await smtp.nextTo(email);
      expect(mail.kind).toBe('remember-theft');
      expect(mail.subject).toBe('We signed you out everywhere: a sign-in cookie was reused');
      expect(mail.text).toContain(`${LINK_BASE}/account`);
      for (const secret of [first, browser.cookies.get(rememberName)!, ...jar.cookies.values()])
        expect(mail.raw).not.toContain(secret);
      expect(mail.receivedAt).toBeGreaterThanOrEqual(started);
      await app.notifications!.idle();
      app.events.off('notified', listener);
      const userId = (await app.users.findByEmail(email))!.id;
      expect(notified).toEqual([{ userId, kind: 'remember-theft', sent: true }]);
    });

    test('a mail server that refuses never fails the request: registration answers 201, the log names the kind, never the link', async () => {
      const closed = await startSmtpServer();
      const mailSettings = closed.mailSettings(LINK_BASE);
      await closed.stop(); // nothing listens on its port any more
      const broken = await build({}, mailSettings);
      const email = uniqueEmail('broken');
      const t0 = Date.now();
      const res = await call(broken.server, null, 'POST', '/auth/register', {
        email,
        password: PASSWORD,
      });
      expect(res.statusCode).toBe(201);
      expect(Date.now() - t0).toBeLessThan(5000);
      await broken.verification!.idle();
      const failed = logLines.filter(
        (l) => l.includes('"mail failed"') || l.includes('mail failed'),
      );
      expect(failed.length).toBeGreaterThan(0);
      const line = JSON.parse(failed.at(-1)!);
      expect(line).toMatchObject({ mail: 'verify', level: 40 });
      expect(line.reason).toMatch(/127\.0\.0\.1:\d+/);
      expect(failed.join('\n')).not.toMatch(/token=|verify-email\?/);
      await broken.server.stop();
    });
  });
}
