/**
 * Deleting your own account (DELETE /auth/account and the /account form), and the admin hook
 * host apps get as `server.plugins.holdfast.admin` (ADR 150), through the plugin on the memory
 * store, with the project's logger writing the audit lines into an array.
 */
import { createLogger } from '../../../src/log/logger';
import { buildTestApp, TestApp } from '../../support/app';
import { call, errorOf, Jar } from '../../support/inject';

const PASSWORD = 'correct horse battery';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
let app: TestApp;
let lines: Array<Record<string, unknown>>;
let window: number;

beforeAll(async () => {
  lines = [];
  const logger = createLogger('info', {
    write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
  });
  app = await buildTestApp({ pages: true, extra: { logger } });
  window = app.settings.auth.reauthWindow;
});

let n = 0;
/** A user signed in on two devices (the second with remember-me). */
async function twoDevices() {
  const email = `delete.${process.pid}.${Date.now()}.${++n}@example.com`;
  const jar = new Jar();
  const reg = await call(app.server, jar, 'POST', '/auth/register', { email, password: PASSWORD });
  expect(reg.statusCode).toBe(201);
  const other = new Jar();
  await call(app.server, other, 'POST', '/auth/login', {
    email,
    password: PASSWORD,
    remember: true,
  });
  const id = JSON.parse(reg.payload).user.id as string;
  return { email, id, jar, other };
}

const status = async (jar: Jar | null) =>
  (await call(app.server, jar, 'GET', '/auth/me')).statusCode;
const crumbOf = (html: string) => /name='crumb' value='([^']+)'/.exec(html)![1];
const audit = (kind: string) => lines.filter((l) => l.audit === kind);

describe('DELETE /auth/account', () => {
  test('past auth.reauthWindow: 403 HF_REAUTH_REQUIRED (names /auth/reauth) and nothing is deleted', async () => {
    const { id, jar, other } = await twoDevices();
    app.clock.now += window + 1;
    const r = await call(app.server, jar, 'DELETE', '/auth/account');
    expect(r.statusCode).toBe(403);
    expect(JSON.parse(r.payload)).toMatchObject({
      code: 'HF_REAUTH_REQUIRED',
      reauth: '/auth/reauth',
    });
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(await app.users.findById(id)).not.toBeNull();
    expect(await status(jar)).toBe(200);
    expect(await status(other)).toBe(200);
  });

  test('after re-authentication: 204, both cookies cleared, every session and series ends, the login is gone; audit user_deleted by self', async () => {
    const { email, id, jar, other } = await twoDevices();
    app.clock.now += window + 1;
    expect(
      (await call(app.server, jar, 'POST', '/auth/reauth', { password: PASSWORD })).statusCode,
    ).toBe(200);
    const before = jar.clone();
    const r = await call(app.server, jar, 'DELETE', '/auth/account');
    expect(r.statusCode).toBe(204);
    const cleared = ([] as string[]).concat(r.headers['set-cookie'] as string[]);
    expect(cleared).toHaveLength(2);
    for (const c of cleared) expect(c).toMatch(/^[^=]+=; .*Max-Age=0/);
    expect(jar.cookies.size).toBe(0);
    expect(await status(before)).toBe(401);
    expect(await status(other)).toBe(401); // its remember-me series ended too
    expect(await app.users.findById(id)).toBeNull();
    const login = await call(app.server, null, 'POST', '/auth/login', {
      email,
      password: PASSWORD,
    });
    expect(JSON.parse(login.payload).code).toBe('HF_LOGIN_FAILED');
    expect(audit('user_deleted')).toContainEqual(
      expect.objectContaining({ userId: id, by: 'self', revokedSessions: 2 }),
    );
    expect(JSON.stringify(lines)).not.toContain(email);
  });

  test('from another site: 403 HF_CSRF before anything runs; without a session: 401', async () => {
    const { id, jar } = await twoDevices();
    const r = await call(app.server, jar, 'DELETE', '/auth/account', undefined, {
      origin: 'https://evil.example',
    });
    expect(r.statusCode).toBe(403);
    expect(JSON.parse(r.payload).code).toBe('HF_CSRF');
    expect(await app.users.findById(id)).not.toBeNull();
    const anonymous = await call(app.server, null, 'DELETE', '/auth/account');
    expect(anonymous.statusCode).toBe(401);
  });

  test('a disabled account (a request in flight) is refused with HF_ACCOUNT_DISABLED; the OpenAPI document lists the route', async () => {
    const { id, jar } = await twoDevices();
    const me = await call(app.server, jar, 'GET', '/auth/me');
    const session = JSON.parse(me.payload).session;
    // The session was valid when the request began; the admin disables the account meanwhile.
    const stored = (await app.sessions.list(id)).find((s) => s.id === session.id)!;
    await app.accounts.disableUser(id);
    const { deleteOwnAccount } = await import('../../../src/accounts');
    await expect(deleteOwnAccount(app.accounts, stored)).rejects.toMatchObject({
      code: 'HF_ACCOUNT_DISABLED',
    });
    expect(await app.users.findById(id)).not.toBeNull();
    const doc = JSON.parse((await call(app.server, null, 'GET', '/auth/openapi.json')).payload);
    expect(doc.paths['/auth/account'].delete).toMatchObject({ operationId: 'deleteAccount' });
    expect(Object.keys(doc.paths['/auth/account'].delete.responses)).toEqual(
      expect.arrayContaining(['204', '401', '403']),
    );
  });
});

describe('/account: delete my account', () => {
  async function post(jar: Jar, fields: Record<string, string>) {
    const page = await call(app.server, jar, 'GET', '/account');
    const payload = new URLSearchParams({ crumb: crumbOf(page.payload), ...fields }).toString();
    return call(app.server, jar, 'POST', '/account/delete', payload, FORM);
  }

  test('the page shows the form with a required confirmation box', async () => {
    const { jar } = await twoDevices();
    const page = await call(app.server, jar, 'GET', '/account');
    expect(page.payload).toMatch(
      /<form method='post' action='\/account\/delete' id='delete-account'>/,
    );
    expect(page.payload).toMatch(
      /<input\s+id='confirmDelete'\s+name='confirm'\s+type='checkbox'\s+value='yes'\s+required\s*\/>/,
    );
  });

  test('without the box ticked: 400 on the page, nothing deleted; without a crumb: 403 HF_CSRF', async () => {
    const { id, jar } = await twoDevices();
    const unticked = await post(jar, {});
    expect(unticked.statusCode).toBe(400);
    expect(errorOf(unticked).message).toBe('Tick the box to confirm the deletion.');
    const forged = await call(
      app.server,
      jar,
      'POST',
      '/account/delete',
      new URLSearchParams({ confirm: 'yes' }).toString(),
      FORM,
    );
    expect(forged.statusCode).toBe(403);
    expect(errorOf(forged).code).toBe('HF_CSRF');
    expect(await app.users.findById(id)).not.toBeNull();
    expect(await status(jar)).toBe(200);
  });

  test('past the window: 403 on the page with the reason; after confirming: 303 to /login?done=deleted, cookies cleared, the login page says so', async () => {
    const { id, jar, other } = await twoDevices();
    app.clock.now += window + 1;
    const refused = await post(jar, { confirm: 'yes' });
    expect(refused.statusCode).toBe(403);
    expect(errorOf(refused).message).toMatch(/^confirm your password/);
    expect(await app.users.findById(id)).not.toBeNull();

    const page = await call(app.server, jar, 'GET', '/account');
    const reauth = await call(
      app.server,
      jar,
      'POST',
      '/account/reauth',
      new URLSearchParams({ crumb: crumbOf(page.payload), password: PASSWORD }).toString(),
      FORM,
    );
    expect(reauth.statusCode).toBe(303);
    const done = await post(jar, { confirm: 'yes' });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/login?done=deleted');
    expect(jar.cookies.size).toBe(0);
    expect(await app.users.findById(id)).toBeNull();
    expect(await status(other)).toBe(401);
    const login = await call(app.server, jar, 'GET', '/login?done=deleted');
    expect(login.payload).toContain("<p class='notice' role='status'>Your account is deleted.</p>");
  });
});

describe('server.plugins.holdfast.admin', () => {
  test('disable, enable, revokeSessions, show and delete by email or id; audit lines for each', async () => {
    const admin = app.server.plugins.holdfast!.admin;
    const { email, id, jar, other } = await twoDevices();

    expect(await admin.disable({ email })).toBe(true);
    expect(await status(jar)).toBe(401);
    expect(await status(other)).toBe(401);
    const refused = await call(app.server, null, 'POST', '/auth/login', {
      email,
      password: PASSWORD,
    });
    expect(refused.statusCode).toBe(403);
    expect(JSON.parse(refused.payload).code).toBe('HF_ACCOUNT_DISABLED');
    expect((await admin.show({ userId: id }))!.status).toBe('disabled');

    expect(await admin.enable({ userId: id })).toBe(true);
    const back = new Jar();
    const login = await call(app.server, back, 'POST', '/auth/login', {
      email,
      password: PASSWORD,
    });
    expect(login.statusCode).toBe(200);
    expect(await admin.show({ email })).toMatchObject({ id, status: 'enabled', sessions: 1 });
    expect(await admin.revokeSessions({ email })).toBe(1);
    expect(await status(back)).toBe(401);

    expect(await admin.delete({ userId: id })).toBe(true);
    expect(await admin.show({ email })).toBeNull();
    expect(audit('user_disabled')).toContainEqual(expect.objectContaining({ userId: id }));
    expect(audit('user_enabled')).toContainEqual(expect.objectContaining({ userId: id }));
    expect(audit('user_deleted')).toContainEqual(
      expect.objectContaining({ userId: id, by: 'admin' }),
    );
    expect(JSON.stringify(lines)).not.toContain(email);
  });
});
