import Cookie from '@hapi/cookie';
import Hapi from '@hapi/hapi';
import { holdfastCookieValidate, sessionToken } from '../../../src/auth';
import { SessionPolicy, SessionService } from '../../../src/session';
import { KeyLayout, MemoryEngine } from '../../../src/store';
import { testSettings } from '../plugin/helpers';

test('@hapi/cookie with Holdfast as validate: login, shared session check, revocation ends it', async () => {
  const settings = testSettings();
  const layout = new KeyLayout('hf', settings.store.redis.shards);
  const sessions = new SessionService(
    new MemoryEngine(settings.store.redis.shards),
    layout,
    new SessionPolicy(settings.session),
  );
  const server = Hapi.server();
  await server.register(Cookie);
  server.auth.strategy('session', 'cookie', {
    cookie: { name: 'sid', password: settings.cookie.password as string, isSecure: false },
    validate: holdfastCookieValidate(sessions),
  });
  server.auth.default('session');
  server.route([
    {
      method: 'POST',
      path: '/login',
      options: { auth: false },
      handler: async (r) => {
        const issued = await sessions.create(
          'user-1',
          { ip: '127.0.0.1', userAgent: 'test' },
          'password',
        );
        (r as unknown as { cookieAuth: { set(v: object): void } }).cookieAuth.set(
          sessionToken(issued.token),
        );
        return { id: issued.session.id };
      },
    },
    { method: 'GET', path: '/me', handler: (r) => r.auth.credentials },
  ]);
  const login = await server.inject({ method: 'POST', url: '/login' });
  const cookie = String((login.headers['set-cookie'] as string[])[0]).split(';')[0];
  const me = await server.inject({ method: 'GET', url: '/me', headers: { cookie } });
  expect(me.statusCode).toBe(200);
  expect(JSON.parse(me.payload).user.id).toBe('user-1');
  await sessions.revokeAll('user-1', 'admin');
  expect((await server.inject({ method: 'GET', url: '/me', headers: { cookie } })).statusCode).toBe(
    401,
  );
});
