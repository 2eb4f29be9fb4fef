/**
 * Where the CSRF extensions apply: every state-changing method (POST, PUT, PATCH, DELETE) of the
 * routes they guard, and only the routes of the plugin that registered them (sandbox), so the
 * host app's own routes are left to the app.
 */
import Hapi from '@hapi/hapi';
import { HoldfastError } from '../../../src/errors';
import { Csrf, toBoom } from '../../../src/plugin';
import { registerCsrf } from '../../../src/plugin/csrf';
import { buildTestApp } from '../../support/app';
import { call, Jar } from '../../support/inject';

const KEY_PASSWORD = 'a cookie password of at least 32 characters';
const CROSS = { host: 'holdfast.test', origin: 'https://evil.example' };
const SAME = { host: 'holdfast.test', origin: 'http://holdfast.test' };

test('every state-changing method is checked, reads are not', async () => {
  const server = Hapi.server({ debug: false });
  server.ext('onPreResponse', (r, h) =>
    r.response instanceof HoldfastError ? toBoom(r.response) : h.continue,
  );
  // Registered on the root: its sandbox is the root realm, where these routes are.
  registerCsrf(server, new Csrf(KEY_PASSWORD, [], false));
  const methods = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] as const;
  server.route(methods.map((method) => ({ method, path: '/thing', handler: () => 'ok' })));
  await server.initialize();
  for (const method of methods) {
    const cross = await server.inject({ method, url: '/thing', headers: CROSS });
    expect([method, cross.statusCode]).toEqual([method, method === 'GET' ? 200 : 403]);
    if (method !== 'GET') expect(JSON.parse(cross.payload).code).toBe('HF_CSRF');
    const same = await server.inject({ method, url: '/thing', headers: SAME });
    expect([method, same.statusCode]).toEqual([method, 200]);
  }
});

test("the host app's own routes are not Holdfast's to check: no Origin check, no crumb", async () => {
  const app = await buildTestApp({ pages: true });
  try {
    app.server.route([
      { method: 'POST', path: '/app/open', options: { auth: false }, handler: () => 'open' },
      {
        method: 'POST',
        path: '/app/form',
        // Holdfast's own crumb option, set on an app route: still the app's route.
        options: { plugins: { holdfast: { crumb: true } } },
        handler: () => 'form',
      },
    ]);
    const open = await app.server.inject({ method: 'POST', url: '/app/open', headers: CROSS });
    expect([open.statusCode, open.payload]).toEqual([200, 'open']);

    const email = `csrf-scope.${process.pid}.${Date.now()}@example.com`;
    const jar = new Jar();
    const reg = await call(app.server, jar, 'POST', '/auth/register', {
      email,
      password: 'correct horse battery',
    });
    expect(reg.statusCode).toBe(201);
    const form = await call(app.server, jar, 'POST', '/app/form', {}, SAME);
    expect([form.statusCode, form.payload]).toEqual([200, 'form']);
    // Holdfast's own routes stay guarded in the same app.
    const own = await app.server.inject({ method: 'POST', url: '/auth/logout', headers: CROSS });
    expect(own.statusCode).toBe(403);
  } finally {
    await app.server.stop();
  }
});
