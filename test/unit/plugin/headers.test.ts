/**
 * Headers on every answer of Holdfast's routes, success and error alike: nothing is cached
 * (Cache-Control: no-store), no Referer leaks a URL onward (Referrer-Policy), nothing is sniffed.
 */
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

const PASSWORD = 'correct horse battery';
let app: TestApp;
// A fresh app per test: what building it runs then counts for each test, so mutation testing
// (perTest coverage) re-runs only the tests that reach a mutant instead of every test.
beforeEach(async () => {
  app = await buildTestApp({ pages: true });
});
afterEach(() => app.server.stop());

type Res = Awaited<ReturnType<typeof call>>;
let n = 0;

async function everyAnswer(): Promise<Array<[string, Res]>> {
  const email = `headers.${process.pid}.${Date.now()}.${++n}@example.com`;
  const jar = new Jar();
  const anon = new Jar();
  const out: Array<[string, Res]> = [];
  const add = async (
    label: string,
    j: Jar | null,
    method: string,
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ) => out.push([label, await call(app.server, j, method, url, payload, headers)]);
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  await add('register 201', jar, 'POST', '/auth/register', { email, password: PASSWORD });
  await add('register 409', null, 'POST', '/auth/register', { email, password: PASSWORD });
  await add('register 400', null, 'POST', '/auth/register', { email: 'x', password: PASSWORD });
  await add('register 415', null, 'POST', '/auth/register', 'email=a', form);
  await add('login 200', jar, 'POST', '/auth/login', { email, password: PASSWORD, remember: true });
  await add('login 401', null, 'POST', '/auth/login', { email, password: 'wrong password!' });
  await add(
    'login 403 (CSRF)',
    null,
    'POST',
    '/auth/login',
    { email, password: PASSWORD },
    {
      origin: 'https://evil.example',
    },
  );
  await add('login 413', null, 'POST', '/auth/login', { email, password: 'x'.repeat(20000) });
  await add('me 200', jar, 'GET', '/auth/me');
  await add('me 401', null, 'GET', '/auth/me');
  await add('sessions 200', jar, 'GET', '/auth/sessions');
  await add('session 404', jar, 'DELETE', `/auth/sessions/${'A'.repeat(22)}`);
  await add('password 403', jar, 'POST', '/auth/password', {
    currentPassword: 'wrong password!',
    newPassword: 'a new password!',
  });
  await add('password 200', jar, 'POST', '/auth/password', {
    currentPassword: PASSWORD,
    newPassword: 'a new password!',
  });
  await add('revoke others 200', jar, 'DELETE', '/auth/sessions');
  await add('page login 200', anon, 'GET', '/login');
  await add('page register 200', anon, 'GET', '/register');
  await add('page account 303 (anonymous)', anon, 'GET', '/account');
  await add('page login 401', anon, 'POST', '/login', 'email=a%40b.co&password=nope', form);
  await add('page register 400', anon, 'POST', '/register', 'email=x&password=y', form);
  await add(
    'page login 303',
    anon,
    'POST',
    '/login',
    `email=${encodeURIComponent(email)}&password=a+new+password!`,
    form,
  );
  await add('page account 200', anon, 'GET', '/account');
  await add('page logout 200', anon, 'GET', '/logout');
  await add('page 403 (CSRF)', anon, 'POST', '/logout', 'crumb=x', {
    ...form,
    'sec-fetch-site': 'cross-site',
  });
  await add('page logout 403 (crumb)', anon, 'POST', '/logout', 'crumb=wrong', form);
  await add('logout 204', jar, 'POST', '/auth/logout');
  // Throttled (429): the account's failures run out.
  for (let i = 0; i < app.settings.throttle.accountFailures; i++) {
    await call(app.server, null, 'POST', '/auth/login', { email, password: 'wrong password!' });
  }
  await add('login 429', null, 'POST', '/auth/login', { email, password: 'wrong password!' });
  return out;
}

test('every API and page answer, success or error, is no-store, sends no Referer onward and is not sniffed', async () => {
  const answers = await everyAnswer();
  const statuses = answers.map(([label, r]) => [label, r.statusCode]);
  // The labels say which answer each request must get: check they did.
  expect(statuses).toEqual(answers.map(([label]) => [label, Number(/\d{3}/.exec(label)![0])]));
  for (const [label, r] of answers) {
    const page = label.startsWith('page');
    expect([label, r.headers['cache-control']]).toEqual([
      label,
      expect.stringMatching(/(^|, )no-store(,|$)/),
    ]);
    expect([label, r.headers['referrer-policy']]).toEqual([
      label,
      page ? 'same-origin' : 'no-referrer',
    ]);
    expect([label, r.headers['x-content-type-options']]).toEqual([label, 'nosniff']);
    expect([label, r.headers['x-frame-options']]).toEqual([label, 'DENY']);
  }
});

test('HSTS is sent on API answers only when cookies are Secure (served over https)', async () => {
  const secure = await buildTestApp({
    settings: testSettings({ cookie: { secure: true } }),
    pages: false,
  });
  const r = await call(secure.server, null, 'GET', '/auth/me');
  expect(r.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  const plain = await call(app.server, null, 'GET', '/auth/me');
  expect(plain.headers['strict-transport-security']).toBeUndefined();
  await secure.server.stop();
});
