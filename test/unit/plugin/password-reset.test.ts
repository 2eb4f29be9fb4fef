/**
 * Password reset end to end through the JSON API and the pages (ASVS 6.4.3), and the notices
 * after a password change or reset (ASVS 6.3.7). Every message goes through a real SMTP server
 * on loopback; the tests read it as a mail client would, follow its link with hapi's inject, and
 * assert what changed. The memory store; the Redis stores run the same token contract.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_DIR, canary } from '../../harness/logs';
import { linkIn, ReceivedMail, startSmtpServer, TestSmtpServer } from '../../support/smtp-server';
import { buildTestApp } from '../../support/app';
import { call, errorOf, Jar } from '../../support/inject';
import { buildResetApp, LINK_BASE, ResetApp, SAME_SITE } from './reset-app';

jest.setTimeout(60_000);

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new passphrase';
canary(NEW_PASSWORD);
const INVALID = {
  code: 'HF_ACCOUNT_TOKEN_INVALID',
  message:
    'this link is not valid: it has expired, was already used, or was replaced by a newer one. Ask for a new one.',
};

let smtp: TestSmtpServer;
let app: ResetApp;
beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await buildResetApp(smtp);
});
afterAll(async () => {
  await app?.server.stop();
  await app?.services.mailer?.close();
  await smtp?.stop();
});

let n = 0;
const newEmail = () => `reset.${process.pid}.${Date.now()}.${++n}@example.com`;

async function register(email = newEmail()): Promise<{ email: string; id: string }> {
  const r = await call(
    app.server,
    null,
    'POST',
    '/auth/register',
    { email, password: PASSWORD },
    SAME_SITE,
  );
  expect(r.statusCode).toBe(201);
  // Registration mails a verification link first (ADR 145): taken here, so nextTo sees the reset.
  expect((await smtp.nextTo(email)).kind).toBe('verify');
  return { email, id: JSON.parse(r.payload).user.id };
}

async function login(email: string, password: string, remember = false, jar = new Jar()) {
  const r = await call(
    app.server,
    jar,
    'POST',
    '/auth/login',
    { email, password, remember },
    SAME_SITE,
  );
  return { status: r.statusCode, jar, body: JSON.parse(r.payload) };
}

/** A jar holding only the remember-me cookie of `jar`. */
function rememberOf(jar: Jar): Jar {
  const only = new Jar();
  for (const [k, v] of jar.cookies) if (k.includes('remember')) only.cookies.set(k, v);
  return only;
}

async function requestReset(email: string, headers: Record<string, string> = SAME_SITE) {
  return call(app.server, null, 'POST', '/auth/password-reset', { email }, headers);
}

/** Asks for a reset and returns the emailed link's token. */
async function resetToken(email: string): Promise<{ token: string; mail: ReceivedMail }> {
  expect((await requestReset(email)).statusCode).toBe(202);
  const mail = await smtp.nextTo(email);
  const token = linkIn(mail, '/reset-password').searchParams.get('token');
  expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
  return { token: token as string, mail };
}

async function confirm(token: string, password = NEW_PASSWORD) {
  return call(
    app.server,
    null,
    'POST',
    '/auth/password-reset/confirm',
    { token, password },
    SAME_SITE,
  );
}

test('the whole reset: mail under mail.linkBase (never the Host header), new password set, every session and remember-me series ended, old password refused', async () => {
  const { email, id } = await register();
  const a = await login(email, PASSWORD, true);
  const b = await login(email, PASSWORD, true);
  expect(a.status).toBe(200);
  const before = await app.services.users.findById(id);
  const events: string[] = [];
  const seen: unknown[] = [];
  for (const name of ['passwordResetRequested', 'passwordReset', 'mailed'] as const)
    app.services.events.on(name, (e: unknown) => {
      events.push(name);
      seen.push(e);
    });

  // A poisoned Host header (and an Origin to match it) changes nothing in the link.
  const asked = await requestReset(email, { origin: 'http://evil.example', host: 'evil.example' });
  expect(asked.statusCode).toBe(202);
  expect(JSON.parse(asked.payload)).toEqual({
    message:
      'If an account has this address, a message with a link to choose a new password is on its way. The link works once, for a limited time.',
  });
  const mail = await smtp.nextTo(email);
  expect(mail).toMatchObject({ kind: 'reset', subject: 'Reset your password' });
  const link = linkIn(mail, '/reset-password');
  expect(`${link.origin}${link.pathname}`).toBe(`${LINK_BASE}/reset-password`);
  expect(mail.text).not.toContain('evil.example');
  expect(mail.html).not.toContain('evil.example');
  expect(mail.text).toContain('within 30 minutes');
  const token = link.searchParams.get('token') as string;
  expect(mail.html).toContain(`${LINK_BASE}/reset-password?token&#61;${token}`);

  // The link opens the page with the form; the token goes back in the body.
  const page = await call(app.server, null, 'GET', `${link.pathname}${link.search}`);
  expect(page.statusCode).toBe(200);
  expect(page.headers['referrer-policy']).toBe('strict-origin');
  expect(page.headers['cache-control']).toMatch(/no-store/);
  expect(page.payload).toContain(`<input type='hidden' name='token' value='${token}' />`);

  const done = await confirm(token);
  expect(done.statusCode).toBe(200);
  expect(JSON.parse(done.payload)).toEqual({ revokedSessions: 3 });

  // Every session ended, and the remember-me cookies sign nobody in.
  for (const { jar, remember } of [a, b].map((x) => ({
    jar: x.jar,
    remember: rememberOf(x.jar),
  }))) {
    expect(remember.cookies.size).toBe(1);
    expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(401);
    expect((await call(app.server, remember, 'GET', '/private')).statusCode).toBe(401);
  }
  expect(await app.services.sessions.list(id)).toEqual([]);
  const after = await app.services.users.findById(id);
  expect(after?.credentialVersion).toBe((before?.credentialVersion ?? 0) + 1);

  expect((await login(email, PASSWORD)).body.code).toBe('HF_LOGIN_FAILED');
  expect((await login(email, NEW_PASSWORD)).status).toBe(200);

  // ASVS 6.3.7: the owner is told, with a way back if it was not them.
  const notice = await smtp.nextTo(email);
  expect(notice).toMatchObject({ kind: 'password-reset', subject: 'Your password was reset' });
  expect(notice.text).toContain(`${LINK_BASE}/forgot-password`);
  expect(notice.text).not.toContain(token);

  await app.services.passwordReset?.idle();
  expect(events).toEqual(
    expect.arrayContaining(['passwordResetRequested', 'passwordReset', 'mailed']),
  );
  expect(seen).toEqual(
    expect.arrayContaining([
      { userId: id, ip: '127.0.0.1', sent: true },
      { userId: id, revokedSessions: 3, ip: '127.0.0.1' },
      { userId: id, kind: 'reset', ok: true },
      { userId: id, kind: 'password-reset', ok: true },
    ]),
  );
  // No token in an audit event, nor in the log.
  expect(JSON.stringify(seen)).not.toContain(token.split('.')[1]);
  const log = readFileSync(join(LOG_DIR, `${app.logName}.log`), 'utf8');
  expect(log).toContain('password_reset');
  expect(log).not.toContain(token.split('.')[1]);
  for (const name of ['passwordResetRequested', 'passwordReset', 'mailed'] as const)
    app.services.events.removeAllListeners(name);
});

test('bad tokens (unknown, tampered, mixed from two users, another kind, expired, used) get one 400 with one code and change nothing', async () => {
  const u1 = await register();
  const u2 = await register();
  const s1 = await login(u1.email, PASSWORD);
  const t1 = (await resetToken(u1.email)).token;
  const t2 = (await resetToken(u2.email)).token;
  const before = await app.services.users.findById(u1.id);
  const [id1, secret1] = t1.split('.');
  const [id2, secret2] = t2.split('.');
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  const verify = await app.services.tokens.issue(
    'verify',
    u1.id,
    before?.credentialVersion ?? 0,
    60_000,
  );
  const bad = [
    'not-a-token',
    `${id1}.${flip(secret1)}`,
    `${flip(id1)}.${secret1}`,
    `${id1}.${secret2}`,
    `${id2}.${secret1}`,
    verify.token,
  ];
  for (const token of bad) {
    const r = await confirm(token);
    expect({ token, status: r.statusCode, body: JSON.parse(r.payload) }).toEqual({
      token,
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', ...INVALID },
    });
  }
  // Nothing changed: same password hash and version, the session lives, both links still work.
  expect(await app.services.users.findById(u1.id)).toEqual(before);
  expect((await call(app.server, s1.jar, 'GET', '/auth/me')).statusCode).toBe(200);
  expect(await app.services.passwordReset?.isValid(t1)).toBe(true);
  expect(await app.services.passwordReset?.isValid(t2)).toBe(true);

  // A password the policy refuses: 400 HF_USER_INVALID, and the link still works.
  const weak = await confirm(t1, 'password');
  expect(weak.statusCode).toBe(400);
  expect(JSON.parse(weak.payload).code).toBe('HF_USER_INVALID');
  expect(await app.services.passwordReset?.isValid(t1)).toBe(true);

  // Used once: the second use is the same 400.
  expect((await confirm(t1)).statusCode).toBe(200);
  const reused = await confirm(t1, 'another fine passphrase');
  expect(reused.statusCode).toBe(400);
  expect(JSON.parse(reused.payload)).toMatchObject(INVALID);
  expect((await login(u1.email, NEW_PASSWORD)).status).toBe(200);

  // Expired: past tokens.resetTtl the same 400, and u2's password stays.
  const start = app.clock.now;
  try {
    app.clock.now = start + app.services.settings.tokens.resetTtl;
    const expired = await confirm(t2);
    expect(expired.statusCode).toBe(400);
    expect(JSON.parse(expired.payload)).toMatchObject(INVALID);
  } finally {
    app.clock.now = start;
  }
  expect((await login(u2.email, PASSWORD)).status).toBe(200);
});

test('a later sign-in or password change ends an outstanding link; a newer link replaces an older one', async () => {
  const { email } = await register();
  const t1 = (await resetToken(email)).token;
  expect((await login(email, PASSWORD)).status).toBe(200);
  await app.services.passwordReset?.idle();
  expect(JSON.parse((await confirm(t1)).payload)).toMatchObject(INVALID);

  const t2 = (await resetToken(email)).token;
  const t3 = (await resetToken(email)).token;
  expect(JSON.parse((await confirm(t2)).payload)).toMatchObject(INVALID);
  expect(await app.services.passwordReset?.isValid(t3)).toBe(true);

  // A password change (signed in elsewhere) ends t3 too, and tells the owner (ASVS 6.3.7).
  const s = await login(email, PASSWORD);
  const t4 = (await resetToken(email)).token;
  const changed = await call(
    app.server,
    s.jar,
    'POST',
    '/auth/password',
    { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    SAME_SITE,
  );
  expect(changed.statusCode).toBe(200);
  await app.services.passwordReset?.idle();
  expect(JSON.parse((await confirm(t4, 'yet another passphrase')).payload)).toMatchObject(INVALID);
  const notice = await smtp.nextTo(email);
  expect(notice).toMatchObject({ kind: 'password-changed', subject: 'Your password was changed' });
  expect(notice.text).toMatch(/was changed on \d{4}-\d\d-\d\d at \d\d:\d\d UTC/);
  expect(notice.text).toContain(`${LINK_BASE}/forgot-password`);
  expect((await login(email, NEW_PASSWORD)).status).toBe(200);
});

test('a password written without any event (another node, an admin tool) still voids the link: the token carries the credential version', async () => {
  const { email, id } = await register();
  const { token } = await resetToken(email);
  const user = await app.services.users.findById(id);
  expect(
    await app.services.users.updatePassword(
      id,
      { expectedVersion: user?.credentialVersion ?? 0 },
      String(user?.passwordHash),
      { bumpVersion: true, changedAt: app.clock.now },
    ),
  ).toBe((user?.credentialVersion ?? 0) + 1);
  expect(JSON.parse((await confirm(token)).payload)).toMatchObject(INVALID);
  expect((await login(email, PASSWORD)).status).toBe(200);
});

test('the OpenAPI document describes both routes when reset is offered', async () => {
  const doc = JSON.parse((await call(app.server, null, 'GET', '/auth/openapi.json')).payload);
  const request = doc.paths['/auth/password-reset'].post;
  const confirmOp = doc.paths['/auth/password-reset/confirm'].post;
  expect(request.operationId).toBe('requestPasswordReset');
  expect(Object.keys(request.responses)).toEqual(expect.arrayContaining(['202', '400', '429']));
  expect(confirmOp.operationId).toBe('confirmPasswordReset');
  expect(Object.keys(confirmOp.responses)).toEqual(expect.arrayContaining(['200', '400']));
  expect(confirmOp.responses['400'].description).toMatch(/HF_ACCOUNT_TOKEN_INVALID/);
});

test('unknown and disabled addresses: the same answer and no mail; a disabled account cannot use a link it had', async () => {
  const unknown = newEmail();
  const { email, id } = await register();
  const known = await requestReset(email);
  const none = await requestReset(unknown);
  expect(none.statusCode).toBe(known.statusCode);
  expect(none.payload).toBe(known.payload);
  const token = linkIn(await smtp.nextTo(email), '/reset-password').searchParams.get('token');
  await app.services.passwordReset?.idle();
  await smtp.expectNoMailTo(unknown);

  await app.services.accounts.disableUser(id);
  const disabled = await requestReset(email);
  expect(disabled.payload).toBe(known.payload);
  await app.services.passwordReset?.idle();
  await smtp.expectNoMailTo(email);
  expect(JSON.parse((await confirm(String(token))).payload)).toMatchObject(INVALID);
});

test('throttled per address and per client address, for unknown addresses alike: 429 HF_RESET_THROTTLED with Retry-After', async () => {
  const limited = await buildResetApp(smtp, {
    throttle: { resetPerAccount: 2, resetPerAddress: 5 },
  });
  try {
    const ask = (email: string, ip: string) =>
      call(
        limited.server,
        null,
        'POST',
        '/auth/password-reset',
        { email },
        { ...SAME_SITE, 'x-test-ip': ip },
      );
    const unknown = newEmail();
    expect((await ask(unknown, '10.1.0.1')).statusCode).toBe(202);
    expect((await ask(unknown, '10.1.0.2')).statusCode).toBe(202);
    const third = await ask(unknown.toUpperCase(), '10.1.0.3');
    expect(third.statusCode).toBe(429);
    expect(JSON.parse(third.payload).code).toBe('HF_RESET_THROTTLED');
    expect(Number(third.headers['retry-after'])).toBe(3600);
    // Per client address: 5 different addresses from one client, then 429.
    for (let i = 0; i < 5; i++) expect((await ask(newEmail(), '10.2.0.1')).statusCode).toBe(202);
    const sixth = await ask(newEmail(), '10.2.0.1');
    expect(sixth.statusCode).toBe(429);
    expect(JSON.parse(sixth.payload).code).toBe('HF_RESET_THROTTLED');
    // A refused request cost the address nothing: it can still be asked for from elsewhere... once.
    const fresh = newEmail();
    expect((await ask(fresh, '10.2.0.1')).statusCode).toBe(429);
    expect((await ask(fresh, '10.3.0.1')).statusCode).toBe(202);
    expect((await ask(fresh, '10.3.0.2')).statusCode).toBe(202);
  } finally {
    await limited.server.stop();
    await limited.services.passwordReset?.idle();
    await limited.services.mailer?.close();
  }
});

test('input rules: not an address is 400 HF_USER_INVALID; cross-site is 403 HF_CSRF; a body without a type is 415', async () => {
  const bad = await requestReset('not an address');
  expect(bad.statusCode).toBe(400);
  expect(JSON.parse(bad.payload).code).toBe('HF_USER_INVALID');
  const cross = await requestReset(newEmail(), {
    origin: 'https://evil.example',
    host: 'holdfast.test',
  });
  expect(cross.statusCode).toBe(403);
  expect(JSON.parse(cross.payload).code).toBe('HF_CSRF');
  const typeless = await app.server.inject({
    method: 'POST',
    url: '/auth/password-reset/confirm',
    payload: Buffer.from('{"token":"x","password":"y"}'),
    headers: { ...SAME_SITE },
  });
  expect(typeless.statusCode).toBe(415);
  const extra = await call(
    app.server,
    null,
    'POST',
    '/auth/password-reset/confirm',
    { token: 'x' },
    SAME_SITE,
  );
  expect(extra.statusCode).toBe(400);
  expect(JSON.parse(extra.payload).code).toBe('HF_REQUEST_INVALID');
});

describe('pages', () => {
  const FORM = { 'content-type': 'application/x-www-form-urlencoded', ...SAME_SITE };
  const form = (o: Record<string, string>) => new URLSearchParams(o).toString();

  test('forgot-password → mail → reset page → new password → login page says so', async () => {
    const { email } = await register();
    const login = await call(app.server, null, 'GET', '/login');
    expect(login.payload).toContain("<a href='/forgot-password'>Forgot your password?</a>");
    const ask = await call(app.server, null, 'GET', '/forgot-password');
    expect(ask.statusCode).toBe(200);
    expect(ask.payload).toContain("action='/forgot-password'");
    const sent = await call(app.server, null, 'POST', '/forgot-password', form({ email }), FORM);
    const unknown = await call(
      app.server,
      null,
      'POST',
      '/forgot-password',
      form({ email: newEmail() }),
      FORM,
    );
    expect(sent.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    expect(unknown.payload).toBe(sent.payload);
    expect(sent.payload).toContain("id='reset-sent'");

    const link = linkIn(await smtp.nextTo(email), '/reset-password');
    const page = await call(app.server, null, 'GET', `${link.pathname}${link.search}`);
    expect(page.statusCode).toBe(200);
    const token = String(link.searchParams.get('token'));

    const weak = await call(
      app.server,
      null,
      'POST',
      '/reset-password',
      form({ token, password: 'short' }),
      FORM,
    );
    expect(weak.statusCode).toBe(400);
    expect(weak.headers['referrer-policy']).toBe('strict-origin');
    expect(errorOf(weak).message).toMatch(/password/);
    expect(weak.payload).toContain(`name='token' value='${token}'`);

    const done = await call(
      app.server,
      null,
      'POST',
      '/reset-password',
      form({ token, password: NEW_PASSWORD }),
      FORM,
    );
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/login?done=reset');
    const landed = await call(app.server, null, 'GET', '/login?done=reset');
    expect(landed.payload).toContain(
      'Your password is set and every device that was signed in is signed out',
    );
    expect(
      (
        await call(
          app.server,
          null,
          'POST',
          '/login',
          form({ email, password: NEW_PASSWORD }),
          FORM,
        )
      ).statusCode,
    ).toBe(303);

    // The used link now says so, with the one code, and offers a new one.
    for (const r of [
      await call(app.server, null, 'GET', `${link.pathname}${link.search}`),
      await call(
        app.server,
        null,
        'POST',
        '/reset-password',
        form({ token, password: NEW_PASSWORD }),
        FORM,
      ),
      await call(app.server, null, 'GET', '/reset-password'),
    ]) {
      expect(r.statusCode).toBe(400);
      expect(errorOf(r)).toEqual(INVALID);
      expect(r.payload).toContain("<a href='/forgot-password'>Ask for a new link</a>");
      expect(r.payload).not.toContain("name='password'");
    }
  });

  test('the reset form with Origin null is refused, whatever Sec-Fetch-Site says (its page is strict-origin)', async () => {
    const { email } = await register();
    const { token } = await resetToken(email);
    const nul = {
      'content-type': 'application/x-www-form-urlencoded',
      host: 'holdfast.test',
      origin: 'null',
    };
    const body = form({ token, password: NEW_PASSWORD });
    for (const site of [{}, { 'sec-fetch-site': 'same-origin' }] as Record<string, string>[]) {
      const r = await call(app.server, null, 'POST', '/reset-password', body, { ...nul, ...site });
      expect(r.statusCode).toBe(403);
    }
    // The link still works: a refused post used nothing.
    const ok = await call(app.server, null, 'POST', '/reset-password', body, FORM);
    expect(ok.statusCode).toBe(303);
  });

  test('a cross-site form post is refused before anything is sent', async () => {
    const { email } = await register();
    const r = await call(app.server, null, 'POST', '/forgot-password', form({ email }), {
      ...FORM,
      origin: 'https://evil.example',
    });
    expect(r.statusCode).toBe(403);
    await app.services.passwordReset?.idle();
    await smtp.expectNoMailTo(email);
  });

  test('throttled: the form page answers 429 with Retry-After', async () => {
    const limited = await buildResetApp(smtp, { throttle: { resetPerAccount: 1 } });
    try {
      const email = newEmail();
      const post = () =>
        call(limited.server, null, 'POST', '/forgot-password', form({ email }), FORM);
      expect((await post()).statusCode).toBe(200);
      const r = await post();
      expect(r.statusCode).toBe(429);
      expect(r.headers['retry-after']).toBe('3600');
      expect(errorOf(r).message).toMatch(/too many password reset requests/);
    } finally {
      await limited.server.stop();
      await limited.services.mailer?.close();
    }
  });
});

test('with mail off, reset is not offered: no routes, no link on the login page', async () => {
  const off = await buildTestApp();
  try {
    expect(
      (
        await call(
          off.server,
          null,
          'POST',
          '/auth/password-reset',
          { email: 'a@example.com' },
          SAME_SITE,
        )
      ).statusCode,
    ).toBe(404);
    expect((await call(off.server, null, 'GET', '/forgot-password')).statusCode).toBe(404);
    expect((await call(off.server, null, 'GET', '/login')).payload).not.toContain(
      'forgot-password',
    );
  } finally {
    await off.server.stop();
  }
});
