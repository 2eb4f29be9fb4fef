/**
 * The server-rendered pages as a browser uses them: form posts with a cookie jar.
 */
import { buildTestApp, call, Jar, TestApp } from './helpers';

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
