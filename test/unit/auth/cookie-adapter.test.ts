import Cookie from '@hapi/cookie';
import Hapi from '@hapi/hapi';
import { holdfastCookieValidate, sessionToken } from '../../../src/auth';
import { SessionPolicy, SessionService } from '../../../src/session';
import { KeyLayout, MemoryEngine } from '../../../src/store';
import { MemoryUserStore } from '../../../src/users';
import { testSettings } from '../../support/app';

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

test('@hapi/cookie with Holdfast as validate and roles: scoped routes see the roles now', async () => {
  const settings = testSettings();
  const sessions = new SessionService(
    new MemoryEngine(settings.store.redis.shards),
    new KeyLayout('hf', settings.store.redis.shards),
    new SessionPolicy(settings.session),
  );
  // A real user store holds the roles; the test changes them between requests.
  const users = new MemoryUserStore();
  const user = await users.create({ email: 'cookie.roles@example.com', passwordHash: null });
  await users.setRoles(user.id, ['admin']);
  const server = Hapi.server();
  await server.register(Cookie);
  server.auth.strategy('session', 'cookie', {
    cookie: { name: 'sid', password: settings.cookie.password as string, isSecure: false },
    validate: holdfastCookieValidate(sessions, {
      roles: async (id) => (await users.findById(id))?.roles ?? [],
    }),
  });
  server.auth.default('session');
  server.route([
    {
      method: 'POST',
      path: '/login',
      options: { auth: false },
      handler: async (r) => {
        const issued = await sessions.create(
          user.id,
          { ip: '127.0.0.1', userAgent: 't' },
          'password',
        );
        (r as unknown as { cookieAuth: { set(v: object): void } }).cookieAuth.set(
          sessionToken(issued.token),
        );
        return {};
      },
    },
    {
      method: 'GET',
      path: '/admin',
      options: { auth: { scope: 'admin' } },
      handler: (r) => ({ scope: r.auth.credentials.scope }),
    },
    { method: 'GET', path: '/me', handler: (r) => ({ scope: r.auth.credentials.scope ?? null }) },
  ]);
  const login = await server.inject({ method: 'POST', url: '/login' });
  const cookie = String((login.headers['set-cookie'] as string[])[0]).split(';')[0];
  const admin = await server.inject({ method: 'GET', url: '/admin', headers: { cookie } });
  expect(admin.statusCode).toBe(200);
  expect(JSON.parse(admin.payload)).toEqual({ scope: ['admin'] });
  const me = await server.inject({ method: 'GET', url: '/me', headers: { cookie } });
  expect(JSON.parse(me.payload)).toEqual({ scope: null });
  await users.setRoles(user.id, []);
  expect(
    (await server.inject({ method: 'GET', url: '/admin', headers: { cookie } })).statusCode,
  ).toBe(403);
});
