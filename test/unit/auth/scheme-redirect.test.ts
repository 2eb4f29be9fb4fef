/**
 * auth.redirectTo / auth.appendNext (ADR 087): a browser without a session on a protected page is
 * sent to the login page with the page it asked for in `next`, and comes back there after signing
 * in; API and script clients keep their 401. `next` only ever names a path on this site.
 */
import Hapi from '@hapi/hapi';
import { safeNext } from '../../../src/auth';
import { holdfastPlugin } from '../../../src/plugin';
import { createServices } from '../../../src/server/services';
import { MemoryEngine } from '../../../src/store';
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

const PASSWORD = 'correct horse battery';
const HTML = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const SAME_SITE = { origin: 'http://holdfast.test', host: 'holdfast.test' };

let n = 0;
async function register(app: TestApp): Promise<string> {
  const email = `redirect.${process.pid}.${Date.now()}.${++n}@example.com`;
  const r = await call(app.server, null, 'POST', '/auth/register', { email, password: PASSWORD });
  expect(r.statusCode).toBe(201);
  return email;
}

function addRoutes(app: TestApp): void {
  app.server.route([
    { method: 'GET', path: '/reports', handler: () => 'reports' },
    {
      method: 'GET',
      path: '/maybe',
      options: { auth: { mode: 'try' } },
      handler: (r) => ({ signedIn: r.auth.isAuthenticated }),
    },
    {
      method: 'GET',
      path: '/widget',
      options: { plugins: { holdfast: { redirectTo: false } } },
      handler: () => 'widget',
    },
    { method: 'POST', path: '/reports', handler: () => 'posted' },
    // The app's own route tagged `api` is still the app's: only Holdfast's API never redirects.
    { method: 'GET', path: '/app-api', options: { tags: ['api'] }, handler: () => 'api' },
    { method: 'GET', path: '/files/{path*}', handler: () => 'file' },
  ]);
}

describe('with the defaults (Holdfast serves the pages)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({ pages: true });
    addRoutes(app);
  });
  afterAll(() => app.server.stop());

  test('a browser GET without a session: 302 to /login with the page in next', async () => {
    const r = await call(app.server, null, 'GET', '/reports?year=2026&q=a%20b', undefined, {
      accept: HTML,
    });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe(
      `/login?next=${encodeURIComponent('/reports?year=2026&q=a%20b')}`,
    );
    const head = await call(app.server, null, 'HEAD', '/reports', undefined, {
      accept: 'text/html',
    });
    expect(head.statusCode).toBe(302);
  });

  test('Accept is read as a list: case and spaces do not matter, q=0 refuses', async () => {
    const r = await call(app.server, null, 'GET', '/app-api', undefined, {
      accept: 'application/xml , TEXT/HTML ; q=0.5',
    });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/login?next=%2Fapp-api');
  });

  test('a requested path that would be an unsafe next is left out of the redirect', async () => {
    const r = await call(app.server, null, 'GET', '/files/%5C%5Cevil.example', undefined, {
      accept: HTML,
    });
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/login');
  });

  test('a dead session cookie on a page: 302 and the cookie is cleared', async () => {
    const jar = new Jar();
    jar.cookies.set(app.settings.cookie.name, '1.AAAAAAAAAAAAAAAAAAAAAA.bogus');
    const r = await call(app.server, jar, 'GET', '/reports', undefined, { accept: HTML });
    expect(r.statusCode).toBe(302);
    expect(jar.cookies.has(app.settings.cookie.name)).toBe(false);
  });

  test.each([
    ['no Accept', {}],
    ['Accept: application/json', { accept: 'application/json' }],
    ['Accept: */* (fetch)', { accept: '*/*' }],
    ['text/html refused with q=0', { accept: 'application/json, text/html;q=0' }],
  ])('an API or script client (%s) gets the 401 JSON', async (_name, headers) => {
    const r = await call(app.server, null, 'GET', '/reports', undefined, headers);
    expect(r.statusCode).toBe(401);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers.location).toBeUndefined();
  });

  test('no redirect for a POST, a try route, an opted-out route, or the JSON API', async () => {
    const post = await call(app.server, null, 'POST', '/reports', undefined, {
      accept: HTML,
      ...SAME_SITE,
    });
    expect(post.statusCode).toBe(401);
    const maybe = await call(app.server, null, 'GET', '/maybe', undefined, { accept: HTML });
    expect(maybe.statusCode).toBe(200);
    expect(JSON.parse(maybe.payload)).toEqual({ signedIn: false });
    const widget = await call(app.server, null, 'GET', '/widget', undefined, { accept: HTML });
    expect(widget.statusCode).toBe(401);
    const me = await call(app.server, null, 'GET', '/auth/me', undefined, { accept: HTML });
    expect(me.statusCode).toBe(401);
    expect(JSON.parse(me.payload).code).toBe('HF_UNAUTHENTICATED');
  });

  test('the whole round trip: redirect, login page keeps next, sign-in lands on the page', async () => {
    const email = await register(app);
    const jar = new Jar();
    const first = await call(app.server, jar, 'GET', '/reports?year=2026', undefined, {
      accept: HTML,
    });
    expect(first.statusCode).toBe(302);
    const login = await call(app.server, jar, 'GET', String(first.headers.location));
    expect(login.statusCode).toBe(200);
    const hidden = /name='next' value='([^']*)'/.exec(login.payload);
    // Handlebars escapes `=` as &#x3D;: the browser posts the decoded value back.
    const next = (hidden?.[1] ?? '').replace(/&#x3D;/g, '=');
    expect(next).toBe('/reports?year=2026');
    const signIn = await call(
      app.server,
      jar,
      'POST',
      '/login',
      `email=${encodeURIComponent(email)}&password=${encodeURIComponent(PASSWORD)}&next=${encodeURIComponent(next)}`,
      { 'content-type': 'application/x-www-form-urlencoded', ...SAME_SITE },
    );
    expect(signIn.statusCode).toBe(303);
    expect(signIn.headers.location).toBe('/reports?year=2026');
    const page = await call(app.server, jar, 'GET', '/reports?year=2026', undefined, {
      accept: HTML,
    });
    expect(page.statusCode).toBe(200);
    expect(page.payload).toBe('reports');
    // Signed in already: /login?next= goes straight there.
    const again = await call(app.server, jar, 'GET', '/login?next=%2Freports', undefined, {
      accept: HTML,
    });
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe('/reports');
  });

  test('a failed sign-in keeps next in the form', async () => {
    const email = await register(app);
    const r = await call(
      app.server,
      null,
      'POST',
      '/login',
      `email=${encodeURIComponent(email)}&password=wrong%20password!&next=%2Freports`,
      { 'content-type': 'application/x-www-form-urlencoded', ...SAME_SITE },
    );
    expect(r.statusCode).toBe(401);
    expect(r.payload).toContain("name='next' value='/reports'");
  });

  /** Each form an attacker could use to leave the site after sign-in. */
  const REJECTED: Array<[string, string]> = [
    ['scheme-relative', '//evil.example/x'],
    ['backslash after slash', '/\\evil.example'],
    ['backslashes', '\\\\evil.example'],
    ['absolute https URL', 'https://evil.example/'],
    ['scheme without slashes', 'https:evil.example'],
    ['javascript: URL', 'javascript:alert(1)'],
    ['no leading slash', 'evil.example'],
    ['encoded scheme-relative', '/%2F%2Fevil.example'],
    ['encoded scheme-relative, lower case', '/%2f%2fevil.example'],
    ['encoded backslash', '/%5Cevil.example'],
    ['encoded slashes without the leading one', '%2F%2Fevil.example'],
    ['tab between slashes', '/\t/evil.example'],
    ['newline between slashes', '/\n/evil.example'],
    ['encoded tab between slashes', '/%09/evil.example'],
    ['NUL', '/\u0000/evil.example'],
    ['DEL', '/\u007f/evil.example'],
    ['leading space', ' //evil.example'],
    ['non-ASCII', '/\u3002evil.example'],
    ['broken percent-encoding', '/%E0%A4%A'],
    ['too long', `/${'a'.repeat(2048)}`],
    ['empty', ''],
  ];

  test.each(REJECTED)('safeNext refuses %s', (_name, value) => {
    expect(safeNext(value)).toBeNull();
  });

  test.each(REJECTED)(
    'sign-in with next = %s lands on /account, and the login page drops it',
    async (_name, value) => {
      const email = await register(app);
      const page = await call(
        app.server,
        null,
        'GET',
        `/login?next=${encodeURIComponent(value)}`,
        undefined,
        { accept: HTML },
      );
      expect(page.statusCode).toBe(200);
      expect(page.payload).not.toContain("name='next'");
      const r = await call(
        app.server,
        new Jar(),
        'POST',
        '/login',
        `email=${encodeURIComponent(email)}&password=${encodeURIComponent(PASSWORD)}&next=${encodeURIComponent(value)}`,
        { 'content-type': 'application/x-www-form-urlencoded', ...SAME_SITE },
      );
      expect(r.statusCode).toBe(303);
      expect(r.headers.location).toBe('/account');
    },
  );

  test.each([
    ['/'],
    ['/reports?year=2026&q=a%20b'],
    ['/a%2Fb/c'],
    ['/account#sessions'],
    [`/${'a'.repeat(2047)}`],
  ])('safeNext keeps the same-site path %s', (value) => {
    expect(safeNext(value)).toBe(value);
  });
});

describe('settings and options', () => {
  const apps: TestApp[] = [];
  afterAll(() => Promise.all(apps.map((a) => a.server.stop())));
  async function status(
    opts: Parameters<typeof buildTestApp>[0],
  ): Promise<{ code: number; location: unknown }> {
    const app = await buildTestApp(opts);
    apps.push(app);
    addRoutes(app);
    const r = await call(app.server, null, 'GET', '/reports', undefined, { accept: HTML });
    return { code: r.statusCode, location: r.headers.location };
  }

  test('auth.redirectTo false: the 401 even for a browser', async () => {
    const settings = testSettings({ auth: { redirectTo: false } });
    expect(await status({ settings })).toEqual({ code: 401, location: undefined });
  });

  test('auth.redirectTo names the login page; auth.appendNext names or drops the parameter', async () => {
    expect(await status({ settings: testSettings({ auth: { redirectTo: '/signin' } }) })).toEqual({
      code: 302,
      location: '/signin?next=%2Freports',
    });
    expect(await status({ settings: testSettings({ auth: { appendNext: 'returnTo' } }) })).toEqual({
      code: 302,
      location: '/login?returnTo=%2Freports',
    });
    expect(await status({ settings: testSettings({ auth: { appendNext: false } }) })).toEqual({
      code: 302,
      location: '/login',
    });
  });

  test('pages: false turns it off unless the plugin option names the app’s login page', async () => {
    expect(await status({ pages: false })).toEqual({ code: 401, location: undefined });
    expect(await status({ pages: false, extra: { redirectTo: '/my/login' } })).toEqual({
      code: 302,
      location: '/my/login?next=%2Freports',
    });
    expect(await status({ pages: true, extra: { redirectTo: false } })).toEqual({
      code: 401,
      location: undefined,
    });
  });

  test.each(['//evil.example', 'https://evil.example/login', '/\\evil', 'login', '/login?x=1'])(
    'auth.redirectTo %s is refused at start',
    (value) => {
      expect(() => testSettings({ auth: { redirectTo: value } })).toThrow(/auth\.redirectTo/);
    },
  );
});

test('under a route prefix the default login page is the prefixed one', async () => {
  const settings = testSettings();
  const { sessions, accounts } = createServices(settings, {
    engine: new MemoryEngine(settings.store.redis.shards),
  });
  const server = Hapi.server({ debug: false });
  await server.register(
    { plugin: holdfastPlugin, options: { settings, sessions, accounts } },
    { routes: { prefix: '/id' } },
  );
  server.route({ method: 'GET', path: '/reports', handler: () => 'reports' });
  await server.initialize();
  const r = await server.inject({ url: '/reports', headers: { accept: HTML } });
  expect(r.statusCode).toBe(302);
  expect(r.headers.location).toBe('/id/login?next=%2Freports');
  expect((await server.inject({ url: String(r.headers.location) })).statusCode).toBe(200);
  await server.stop();
});
