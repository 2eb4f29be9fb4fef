/**
 * A body without Content-Type (hapi would parse it as JSON; a cross-site fetch of a typeless Blob
 * needs no CORS preflight) is refused with 415 on every route of the plugin that takes a body,
 * JSON API and page forms alike, and changes nothing.
 */
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { call, errorOf, Jar } from '../../support/inject';

let app: TestApp;
let seq = 0;
const email = () => `media.${process.pid}.${++seq}@example.com`;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  app = await buildTestApp({
    // A provider, so OAuth's routes are in the table too.
    settings: testSettings({ oauth: { github: { clientId: 'id', clientSecret: 'secret' } } }),
    pages: true,
  });
});

async function signedIn(): Promise<{ address: string; jar: Jar }> {
  const address = email();
  const jar = new Jar();
  const r = await call(app.server, jar, 'POST', '/auth/register', {
    email: address,
    password: PASSWORD,
  });
  expect(r.statusCode).toBe(201);
  return { address, jar };
}

/** The same request a browser or script would send, with its Content-Type header left out. */
function untyped(method: string, url: string, body: string, jar?: Jar) {
  const cookie = jar?.header();
  return app.server.inject({
    method,
    url,
    payload: body,
    headers: cookie ? { cookie } : {},
  });
}

test('every route of the plugin that takes a body answers 415 HF_REQUEST_INVALID without Content-Type', async () => {
  const routes = app.server
    .table()
    // `*`: the 405 answer for methods a path does not serve (method-not-allowed.test.ts).
    .filter((r) => r.realm.plugin === 'holdfast' && r.method !== 'get' && r.method !== '*');
  // The JSON API and the page forms (a table that shrank would make this test pass vacuously).
  expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
    expect.arrayContaining([
      'post /auth/register',
      'post /auth/login',
      'post /auth/password',
      'post /login',
      'post /register',
      'post /account/password',
    ]),
  );
  const { jar } = await signedIn();
  const answers: string[] = [];
  for (const r of routes) {
    const url = r.path.replace('{id}', 'AAAAAAAAAAAAAAAAAAAAAA').replace('{provider}', 'github');
    const res = await untyped(r.method, url, '{"email":"x@example.com"}', jar);
    const body = errorOf(res);
    answers.push(`${r.method} ${r.path} ${res.statusCode} ${body.code}`);
    expect(body.message).toMatch(/no Content-Type header: send Content-Type: /);
  }
  expect(answers).toEqual(routes.map((r) => `${r.method} ${r.path} 415 HF_REQUEST_INVALID`));
});

test('the message names the type the route takes: JSON for the API, a form for the pages', async () => {
  const api = await untyped('POST', '/auth/login', '{}');
  expect(JSON.parse(api.payload).message).toBe(
    'the request has a body but no Content-Type header: send Content-Type: application/json',
  );
  const page = await untyped('POST', '/login', 'email=a%40example.com&password=x');
  expect(page.statusCode).toBe(415);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(errorOf(page).message).toBe(
    'the request has a body but no Content-Type header: send Content-Type: application/x-www-form-urlencoded',
  );
});

test('an untyped JSON body changes nothing: no account, no session, no password change', async () => {
  const address = email();
  const reg = await untyped(
    'POST',
    '/auth/register',
    JSON.stringify({ email: address, password: PASSWORD }),
  );
  expect(reg.statusCode).toBe(415);
  expect(reg.headers['set-cookie']).toBeUndefined();
  expect(await app.users.findByEmail(address)).toBeNull();

  const { address: mine, jar } = await signedIn();
  const login = await untyped(
    'POST',
    '/auth/login',
    JSON.stringify({ email: mine, password: PASSWORD }),
  );
  expect([login.statusCode, login.headers['set-cookie']]).toEqual([415, undefined]);
  const change = await untyped(
    'POST',
    '/auth/password',
    JSON.stringify({ currentPassword: PASSWORD, newPassword: 'a whole new passphrase' }),
    jar,
  );
  expect(change.statusCode).toBe(415);
  // The old password still works and the session is still the same one.
  expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
  const again = await call(app.server, null, 'POST', '/auth/login', {
    email: mine,
    password: PASSWORD,
  });
  expect(again.statusCode).toBe(200);
});

test('the same requests with their Content-Type, and bodiless posts, are served as before', async () => {
  const reg = await call(app.server, new Jar(), 'POST', '/auth/register', {
    email: email(),
    password: PASSWORD,
  });
  expect(reg.statusCode).toBe(201);
  const { jar } = await signedIn();
  // A logout with no body at all (fetch('/auth/logout', { method: 'POST' })) needs no type.
  const out = await app.server.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { cookie: jar.header() as string },
  });
  expect(out.statusCode).toBe(204);
});
