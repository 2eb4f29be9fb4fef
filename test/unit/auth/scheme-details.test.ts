/**
 * Details of the auth scheme that the broader suites leave open: a route whose access rules mix
 * a scope with other rules still gets the user's roles as scope; an Accept entry for text/html
 * with parameters other than q is a page request; a `next` path may contain `//` after its start.
 * Each app is built inside its test (a memory-store app costs milliseconds), so mutation testing
 * can tell which test reaches which line.
 */
import { safeNext } from '../../../src/auth';
import { buildTestApp, TestApp } from '../../support/app';
import { call, Jar } from '../../support/inject';

const PASSWORD = 'correct horse battery';
let n = 0;

async function signedIn(app: TestApp) {
  const email = `scheme.${process.pid}.${Date.now()}.${++n}@example.com`;
  await call(app.server, null, 'POST', '/auth/register', { email, password: PASSWORD });
  const jar = new Jar();
  const r = await call(app.server, jar, 'POST', '/auth/login', { email, password: PASSWORD });
  expect(r.statusCode).toBe(200);
  return { jar, userId: JSON.parse(r.payload).user.id as string };
}

test('access rules where only one names a scope: the roles are still read as scope', async () => {
  const app = await buildTestApp({ pages: false });
  try {
    app.server.route({
      method: 'GET',
      path: '/mixed',
      // The first rule (an app, not a user) never matches a Holdfast session: only the scope can.
      options: { auth: { access: [{ entity: 'app' }, { scope: ['admin'] }] } },
      handler: (r) => ({ scope: r.auth.credentials.scope ?? null }),
    });
    const { jar, userId } = await signedIn(app);
    expect((await call(app.server, jar, 'GET', '/mixed')).statusCode).toBe(403);
    await app.accounts.setRoles(userId, ['admin']);
    const r = await call(app.server, jar, 'GET', '/mixed');
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.payload)).toEqual({ scope: ['admin'] });
  } finally {
    await app.server.stop();
  }
});

test('text/html with a parameter other than q is a page request: redirected to the login page', async () => {
  const app = await buildTestApp({ pages: true });
  try {
    app.server.route({ method: 'GET', path: '/reports', handler: () => 'reports' });
    for (const accept of ['text/html;level=1', 'text/html; charset=utf-8; q=0.5']) {
      const r = await call(app.server, null, 'GET', '/reports', undefined, { accept });
      expect(r.statusCode).toBe(302);
      expect(r.headers.location).toBe('/login?next=%2Freports');
    }
    const refused = await call(app.server, null, 'GET', '/reports', undefined, {
      accept: 'text/html;level=1;q=0',
    });
    expect(refused.statusCode).toBe(401);
  } finally {
    await app.server.stop();
  }
});

test('safeNext keeps a path with `//` after its start (only a leading `//` names another host)', () => {
  for (const value of ['/a//b', '/files//', '/x?u=//y']) expect(safeNext(value)).toBe(value);
  expect(safeNext('//evil.example/')).toBeNull();
});
