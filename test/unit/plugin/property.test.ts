import fc from 'fast-check';
import { buildTestApp, TestApp } from '../../support/app';
import { call, Jar } from '../../support/inject';

let app: TestApp;
let jar: Jar;
let email: string;

// A fresh app per test: what building it runs then counts for each test, so mutation testing
// (perTest coverage) re-runs only the tests that reach a mutant instead of every test.
beforeEach(async () => {
  app = await buildTestApp({ pages: false });
  email = `prop.${Date.now()}@example.com`;
  jar = new Jar();
  await call(app.server, jar, 'POST', '/auth/register', {
    email,
    password: 'correct horse battery',
  });
});

test('any cookie value is a valid session or "no session" (401): never a 400/500, never another user', async () => {
  const name = 'holdfast';
  const token = jar.cookies.get(name) as string;
  const value = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.stringMatching(/^[0-9]{1,5}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/),
    // Well-formed format 4 tokens (16-char ids) that name no session.
    fc.stringMatching(/^[0-9]{1,5}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/),
    fc
      .integer({ min: 0, max: token.length - 1 })
      .chain((i) =>
        fc.constantFrom(...'AB_-xz09').map((ch) => token.slice(0, i) + ch + token.slice(i + 1)),
      ),
  );
  await fc.assert(
    fc.asyncProperty(value, async (v) => {
      const r = await app.server.inject({
        method: 'GET',
        url: '/auth/me',
        headers: { cookie: `${name}=${v}` },
      });
      if (v === token) expect(r.statusCode).toBe(200);
      else expect(r.statusCode).toBe(401);
    }),
    { numRuns: 150 },
  );
  expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(200);
});

test('any JSON body on login/register is a clear 4xx (or success) and never a 5xx', async () => {
  const before = await app.sessions.count();
  const body = fc.oneof(
    fc.record(
      { email: fc.string({ maxLength: 300 }), password: fc.string({ maxLength: 300 }) },
      { requiredKeys: [] },
    ),
    fc.record(
      { email: fc.anything(), password: fc.anything(), remember: fc.anything() },
      { requiredKeys: [] },
    ),
    fc.anything(),
  );
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom('/auth/login', '/auth/register'), async (b, url) => {
      const r = await app.server.inject({
        method: 'POST',
        url,
        payload: JSON.stringify(b) ?? 'null',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '1.1.1.1' },
      });
      expect(r.statusCode).toBeLessThan(500);
      if (r.statusCode >= 400) expect(JSON.parse(r.payload).code).toMatch(/^HF_/);
      if (r.statusCode >= 400) expect(r.headers['set-cookie'] ?? []).toEqual([]);
    }),
    { numRuns: 150 },
  );
  // Random input may register an account by chance, but never logs anyone into this user.
  const after = await app.sessions.count();
  expect(after.sessions).toBeGreaterThanOrEqual(before.sessions);
});
