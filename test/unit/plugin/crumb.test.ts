/**
 * Holdfast beside the real @hapi/crumb (ADR 085): Holdfast's routes carry `plugins.crumb: false`,
 * so its JSON API and page forms work with crumb registered, while its own Origin check and
 * session-bound crumb still refuse cross-site requests, and the app's routes still need crumb's
 * token. Both of crumb's modes: forms (default) and restful (X-CSRF-Token header).
 */
import Crumb from '@hapi/crumb';
import Hapi from '@hapi/hapi';
import { holdfastPlugin } from '../../../src/plugin';
import { createServices } from '../../../src/server/services';
import { MemoryEngine } from '../../../src/store';
import { testSettings } from '../../support/app';
import { call, errorOf, Jar } from '../../support/inject';

const PASSWORD = 'correct horse battery';
const SAME_SITE = { host: 'holdfast.test', origin: 'http://holdfast.test' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded', ...SAME_SITE };

async function appWithCrumb(restful: boolean): Promise<Hapi.Server> {
  const settings = testSettings();
  const engine = new MemoryEngine(settings.store.redis.shards);
  const { sessions, accounts } = createServices(settings, { engine });
  const server = Hapi.server({ host: '127.0.0.1', port: 0, debug: false });
  await server.register({ plugin: Crumb, options: { restful } });
  await server.register({ plugin: holdfastPlugin, options: { settings, sessions, accounts } });
  server.route([
    // The app's own routes: crumb guards them as it always did.
    {
      method: 'GET',
      path: '/app/form',
      options: { auth: false },
      handler: (r) => ({ crumb: (r.plugins as Record<string, unknown>).crumb }),
    },
    {
      method: 'POST',
      path: '/app/note',
      options: { auth: false },
      handler: () => ({ saved: true }),
    },
    {
      method: 'PUT',
      path: '/app/note',
      options: { auth: false },
      handler: () => ({ saved: true }),
    },
  ]);
  await server.initialize();
  return server;
}

let n = 0;
const newEmail = () => `crumb.${process.pid}.${Date.now()}.${++n}@example.com`;

describe.each([
  ['forms (default)', false],
  ['restful', true],
])('with @hapi/crumb registered, %s mode', (_mode, restful) => {
  let server: Hapi.Server;
  beforeAll(async () => {
    server = await appWithCrumb(restful);
  });
  afterAll(() => server.stop());

  test('Holdfast routes say plugins.crumb: false; the app’s routes do not', () => {
    const table = server.table();
    const ours = table.filter((r) => r.realm.plugin === 'holdfast');
    expect(ours.length).toBeGreaterThan(10);
    for (const r of ours) expect((r.settings.plugins as Record<string, unknown>).crumb).toBe(false);
    const app = table.filter((r) => r.path.startsWith('/app/'));
    for (const r of app) expect(Object.hasOwn(r.settings.plugins ?? {}, 'crumb')).toBe(false);
  });

  test('the JSON API works without crumb’s token: register, login, me, revoke, logout', async () => {
    const jar = new Jar();
    const email = newEmail();
    const reg = await call(server, jar, 'POST', '/auth/register', { email, password: PASSWORD });
    expect(reg.statusCode).toBe(201);
    const other = new Jar();
    const login = await call(server, other, 'POST', '/auth/login', { email, password: PASSWORD });
    expect(login.statusCode).toBe(200);
    const otherId = JSON.parse(login.payload).session.id as string;
    expect((await call(server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
    const del = await call(server, jar, 'DELETE', `/auth/sessions/${otherId}`);
    expect(del.statusCode).toBe(204);
    expect((await call(server, other, 'GET', '/auth/me')).statusCode).toBe(401);
    expect((await call(server, jar, 'POST', '/auth/logout')).statusCode).toBe(204);
  });

  test('the page forms work and the account page keeps Holdfast’s crumb', async () => {
    const email = newEmail();
    await call(server, null, 'POST', '/auth/register', { email, password: PASSWORD });
    const jar = new Jar();
    const signIn = await call(
      server,
      jar,
      'POST',
      '/login',
      `email=${encodeURIComponent(email)}&password=${encodeURIComponent(PASSWORD)}`,
      FORM,
    );
    expect(signIn.statusCode).toBe(303);
    const page = await call(server, jar, 'GET', '/account');
    expect(page.statusCode).toBe(200);
    const crumb = /name='crumb' value='([^']+)'/.exec(page.payload)?.[1];
    // crumb's onPreResponse would write its own token over the view's `crumb`: not here.
    expect(crumb).toBeDefined();
    expect(crumb).not.toBe(jar.cookies.get('crumb'));
    const out = await call(server, jar, 'POST', '/logout', `crumb=${crumb}`, FORM);
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/login');
    expect((await call(server, jar, 'GET', '/auth/me')).statusCode).toBe(401);
  });

  test('cross-site requests are still refused by Holdfast (HF_CSRF)', async () => {
    const email = newEmail();
    await call(server, null, 'POST', '/auth/register', { email, password: PASSWORD });
    const evil = await call(
      server,
      null,
      'POST',
      '/auth/login',
      { email, password: PASSWORD },
      { origin: 'https://evil.example', host: 'holdfast.test' },
    );
    expect(evil.statusCode).toBe(403);
    expect(JSON.parse(evil.payload).code).toBe('HF_CSRF');

    const jar = new Jar();
    await call(server, jar, 'POST', '/auth/login', { email, password: PASSWORD });
    // A same-site form post of a signed-in user without Holdfast's crumb (only crumb's): refused.
    const forged = await call(
      server,
      jar,
      'POST',
      '/logout',
      `crumb=${jar.cookies.get('crumb')}`,
      FORM,
    );
    expect(forged.statusCode).toBe(403);
    expect(errorOf(forged).code).toBe('HF_CSRF');
    expect((await call(server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
  });

  test('the app’s own routes still need crumb’s token', async () => {
    const jar = new Jar();
    const form = await call(server, jar, 'GET', '/app/form');
    const token = JSON.parse(form.payload).crumb as string;
    expect(token).toBe(jar.cookies.get('crumb'));
    if (restful) {
      expect((await call(server, jar, 'PUT', '/app/note', { text: 'x' })).statusCode).toBe(403);
      const ok = await call(
        server,
        jar,
        'PUT',
        '/app/note',
        { text: 'x' },
        {
          'x-csrf-token': token,
        },
      );
      expect(ok.statusCode).toBe(200);
    } else {
      expect((await call(server, jar, 'POST', '/app/note', { text: 'x' })).statusCode).toBe(403);
      const wrong = await call(server, jar, 'POST', '/app/note', { text: 'x', crumb: 'nope' });
      expect(wrong.statusCode).toBe(403);
      const ok = await call(server, jar, 'POST', '/app/note', { text: 'x', crumb: token });
      expect(ok.statusCode).toBe(200);
    }
  });
});
