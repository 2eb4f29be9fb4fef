import Hapi from '@hapi/hapi';
import { holdfastPlugin } from '../../../src/plugin';
import { buildTestApp } from '../../support/app';

test('plugin options are validated and the error names each wrong option', async () => {
  const ok = await buildTestApp({ pages: false });
  const server = Hapi.server();
  const bad = {
    settings: ok.settings,
    sessions: ok.sessions,
    accounts: {},
    users: ok.users,
    pages: 'yes',
  };
  await expect(server.register({ plugin: holdfastPlugin, options: bad as never })).rejects.toThrow(
    /"accounts" must implement register, login.*"pages" must be a boolean.*"users" is not allowed/s,
  );
  await expect(
    Hapi.server().register({ plugin: holdfastPlugin, options: bad as never }),
  ).rejects.toMatchObject({ code: 'HF_PLUGIN_OPTIONS' });
});

test('a host route that hits a store outage answers 503, and a programming error is a 500, never 401', async () => {
  const app = await buildTestApp({ pages: false });
  const { StoreUnavailableError } = await import('../../../src/errors');
  app.server.route({
    method: 'GET',
    path: '/outage',
    options: { auth: false },
    handler: () => {
      throw new StoreUnavailableError('test');
    },
  });
  app.server.route({
    method: 'GET',
    path: '/bug',
    options: { auth: false },
    handler: () => {
      throw new TypeError('bug');
    },
  });
  const a = await app.server.inject('/outage');
  expect(a.statusCode).toBe(503);
  expect(a.headers['retry-after']).toBeDefined();
  expect((await app.server.inject('/bug')).statusCode).toBe(500);
});
