import Hapi from '@hapi/hapi';
import { createServices, holdfastPlugin, loadSettings } from '../../src';

// README's server from the sources (test env: memory store), with no cast on the credentials;
// test/e2e/package runs README's exact text from the packed package.
describe('the package entry point', () => {
  it('serves the README example: register, then a protected route knows the user', async () => {
    const settings = loadSettings({ env: { NODE_ENV: 'test' } });
    const { store, sessions, accounts } = createServices(settings);
    await store.start();
    const server = Hapi.server({ port: 0 });
    await server.register({
      plugin: holdfastPlugin,
      options: { settings, sessions, accounts },
    });
    server.route({
      method: 'GET',
      path: '/',
      handler: (r) => `hello ${r.auth.credentials.user.id}`,
    });
    await server.initialize();

    expect((await server.inject('/')).statusCode).toBe(401);
    const reg = await server.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: 'Ada@Example.org', password: 'correct horse battery staple' },
    });
    expect(reg.statusCode).toBe(201);
    const cookie = String(reg.headers['set-cookie']).split(';')[0];
    const me = await server.inject({ url: '/auth/me', headers: { cookie } });
    const id = (me.result as { user: { id: string } }).user.id;
    const home = await server.inject({ url: '/', headers: { cookie } });
    expect(home.statusCode).toBe(200);
    expect(home.payload).toBe(`hello ${id}`);
    await server.stop();
    await store.stop();
  });
});
