/**
 * A method no route of a documented path serves answers 405 with Allow (found by schemathesis:
 * hapi alone answered 404, as if the resource did not exist; docs/reliability.md), at the root
 * and under a route prefix; the methods that exist still answer as before, and the 405 routes do
 * not appear in the OpenAPI document.
 */
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { call } from '../../support/inject';

describe.each([
  ['at the root', ''],
  ['under a route prefix', '/id'],
])('%s', (_name, prefix) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({
      prefix: prefix || undefined,
      settings: testSettings({ oauth: { github: { clientId: 'id', clientSecret: 'secret' } } }),
    });
  });

  test.each([
    ['TRACE', '/auth/login', 'POST'],
    ['PATCH', '/auth/me', 'GET, HEAD'],
    ['PUT', '/auth/sessions', 'DELETE, GET, HEAD'],
    ['OPTIONS', '/auth/sessions/abc', 'DELETE'],
    ['TRACE', '/auth/oauth/github', 'GET, HEAD'],
  ])('%s %s: 405 with Allow %s and a JSON error', async (method, path, allow) => {
    const res = await call(app.server, null, method, `${prefix}${path}`, undefined, {
      'content-type': 'application/json',
    });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(JSON.parse(res.payload)).toMatchObject({
      statusCode: 405,
      error: 'Method Not Allowed',
      code: 'HF_REQUEST_INVALID',
    });
  });

  test('served methods answer as before; an unknown path is still 404; not documented', async () => {
    expect((await call(app.server, null, 'GET', `${prefix}/auth/me`)).statusCode).toBe(401);
    expect((await call(app.server, null, 'HEAD', `${prefix}/auth/me`)).statusCode).toBe(401);
    expect((await call(app.server, null, 'TRACE', `${prefix}/auth/nothing`)).statusCode).toBe(404);
    const doc = JSON.parse(
      (await call(app.server, null, 'GET', `${prefix}/auth/openapi.json`)).payload,
    ) as { paths: Record<string, Record<string, unknown>> };
    const methods = new Set(Object.values(doc.paths).flatMap((ops) => Object.keys(ops)));
    expect([...methods].sort()).toEqual(['delete', 'get', 'post']);
  });
});
