/**
 * Route `auth.scope` from the user's roles (ADR 086), on a real hapi server: run over the memory
 * stores (unit) and over real Redis (integration). The roles are read on each request of a scoped
 * route, so a removed role stops working on the very next request.
 */
import { UserInputError } from '../../../src/users';
import { TestApp } from '../app';
import { call, Jar, registerAndLogIn } from '../inject';

const PASSWORD = 'correct horse battery';

export function scopeSuite(
  name: string,
  build: () => Promise<TestApp>,
  teardown: (app: TestApp) => Promise<void>,
): void {
  describe(`credentials.scope from roles (${name})`, () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await build();
      app.server.route([
        {
          method: 'GET',
          path: '/admin',
          options: { auth: { scope: 'admin' } },
          handler: (r) => ({ scope: r.auth.credentials.scope }),
        },
        {
          method: 'GET',
          path: '/staff',
          options: { auth: { access: { scope: ['admin', 'editor'] } } },
          handler: (r) => ({ scope: r.auth.credentials.scope }),
        },
        {
          method: 'GET',
          path: '/entity',
          options: { auth: { access: { entity: 'user' } } },
          handler: (r) => ({ scope: r.auth.credentials.scope ?? null }),
        },
        {
          method: 'GET',
          path: '/anyone',
          handler: (r) => ({ scope: r.auth.credentials.scope ?? null }),
        },
      ]);
    });
    afterAll(() => teardown(app));

    let n = 0;
    async function signedIn(remember = false) {
      const email = `scope.${process.pid}.${Date.now()}.${++n}@example.com`;
      return registerAndLogIn(app.server, email, PASSWORD, remember);
    }

    test('a user without the role gets 403; with it 200 and the roles as scope', async () => {
      const { jar, userId } = await signedIn();
      const denied = await call(app.server, jar, 'GET', '/admin');
      expect(denied.statusCode).toBe(403);
      expect(JSON.parse(denied.payload).message).toBe('Insufficient scope');

      const changes: unknown[] = [];
      app.events.on('rolesChanged', (e) => changes.push(e));
      expect(await app.accounts.setRoles(userId, ['admin', 'billing'])).toBe(true);
      expect(await app.accounts.setRoles('no-such-user', ['admin'])).toBe(false);
      // One audit event, for the change that happened.
      expect(changes).toEqual([{ userId, roles: ['admin', 'billing'] }]);
      const allowed = await call(app.server, jar, 'GET', '/admin');
      expect(allowed.statusCode).toBe(200);
      expect(JSON.parse(allowed.payload)).toEqual({ scope: ['admin', 'billing'] });
    });

    test('a removed role stops working on the next request of the same session', async () => {
      const { jar, userId } = await signedIn();
      await app.accounts.setRoles(userId, ['editor']);
      expect((await call(app.server, jar, 'GET', '/staff')).statusCode).toBe(200);
      await app.accounts.setRoles(userId, []);
      expect((await call(app.server, jar, 'GET', '/staff')).statusCode).toBe(403);
      await app.accounts.setRoles(userId, ['admin']);
      expect((await call(app.server, jar, 'GET', '/staff')).statusCode).toBe(200);
    });

    test('a remember-me sign-in carries the roles too', async () => {
      const { jar, userId } = await signedIn(true);
      await app.accounts.setRoles(userId, ['admin']);
      const remembered = new Jar();
      for (const [k, v] of jar.cookies)
        if (k === app.settings.cookie.rememberName) remembered.cookies.set(k, v);
      expect(remembered.cookies.size).toBe(1);
      const r = await call(app.server, remembered, 'GET', '/admin');
      expect(r.statusCode).toBe(200);
      expect(JSON.parse(r.payload)).toEqual({ scope: ['admin'] });
    });

    test('a route without a scope reads no roles: credentials carry no scope there', async () => {
      const { jar, userId } = await signedIn();
      await app.accounts.setRoles(userId, ['admin']);
      const r = await call(app.server, jar, 'GET', '/anyone');
      expect(r.statusCode).toBe(200);
      expect(JSON.parse(r.payload)).toEqual({ scope: null });
      // Access rules without a scope (entity only) do not need the roles either.
      const entity = await call(app.server, jar, 'GET', '/entity');
      expect(entity.statusCode).toBe(200);
      expect(JSON.parse(entity.payload)).toEqual({ scope: null });
    });

    test('bad role lists are refused with HF_USER_INVALID before anything is written', async () => {
      const { jar, userId } = await signedIn();
      await app.accounts.setRoles(userId, ['admin']);
      const notAName = /is not a role name: 1 to 32 of a-z, 0-9/;
      const bad: Array<[unknown, RegExp]> = [
        [['Admin'], notAName],
        [['!admin'], notAName],
        [['+admin'], notAName],
        [['admin user'], notAName],
        [['user-{params.id}'], notAName],
        [[''], notAName],
        [['a'.repeat(33)], notAName],
        [[42], notAName],
        ['admin', /must be a list of role names/],
        [Array.from({ length: 17 }, (_, i) => `r${i}`), /at most 16 roles per user \(17 given\)/],
      ];
      for (const [roles, message] of bad) {
        const err = await app.accounts.setRoles(userId, roles as string[]).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(UserInputError);
        expect(err).toMatchObject({ code: 'HF_USER_INVALID', field: 'roles' });
        expect((err as Error).message).toMatch(message);
      }
      expect((await app.users.findById(userId))?.roles).toEqual(['admin']);
      // The limits themselves are accepted; duplicates are dropped, order kept.
      const sixteen = Array.from({ length: 16 }, (_, i) => `r${i}`);
      expect(await app.accounts.setRoles(userId, [...sixteen, 'r0'])).toBe(true);
      expect((await app.users.findById(userId))?.roles).toEqual(sixteen);
      expect(await app.accounts.setRoles(userId, ['a'.repeat(32), 'ops:read', 'x_y.z-1'])).toBe(
        true,
      );
      expect((await call(app.server, jar, 'GET', '/admin')).statusCode).toBe(403);
      expect(await app.accounts.setRoles('no-such-user', ['admin'])).toBe(false);
    });

    test('a disabled user has no scope (its sessions end too)', async () => {
      const { userId } = await signedIn();
      await app.accounts.setRoles(userId, ['admin']);
      expect(await app.accounts.rolesOf(userId)).toEqual(['admin']);
      await app.accounts.disableUser(userId);
      expect(await app.accounts.rolesOf(userId)).toEqual([]);
    });
  });
}
