import { getProvider, RedisNode } from '../../harness';
import { buildRedisTestApp, RedisTestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

jest.setTimeout(120_000);

let node: RedisNode;
let app: RedisTestApp;

beforeAll(async () => {
  node = await getProvider().standalone();
  const settings = testSettings({
    store: {
      type: 'redis',
      redis: { mode: 'standalone', nodes: [`${node.host}:${node.port}`], commandTimeout: '500ms' },
    },
  });
  app = await buildRedisTestApp(settings, { pages: false });
});

afterAll(async () => {
  await app?.stop();
  await node?.destroy();
});

test('store outage: 503 with Retry-After and HF_STORE_UNAVAILABLE, never 401, and the cookie stays', async () => {
  const jar = new Jar();
  const reg = await call(app.server, jar, 'POST', '/auth/register', {
    email: `outage.${Date.now()}@example.com`,
    password: 'correct horse battery',
  });
  expect(reg.statusCode).toBe(201);
  const cookies = jar.clone();
  await node.stop();
  for (const [method, url, body] of [
    ['GET', '/auth/me', undefined],
    ['GET', '/private', undefined],
    ['GET', '/auth/sessions', undefined],
    ['POST', '/auth/login', { email: 'someone@example.com', password: 'whatever it is' }],
  ] as const) {
    const r = await call(app.server, jar, method, url, body);
    expect(r.statusCode).toBe(503);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(r.payload).code).toBe('HF_STORE_UNAVAILABLE');
    expect(r.headers['set-cookie']).toBeUndefined();
  }
  expect(jar.cookies).toEqual(cookies.cookies);
  await node.start();
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    status = (await call(app.server, jar, 'GET', '/auth/me')).statusCode;
    if (status !== 200) await new Promise((r) => setTimeout(r, 200));
  }
  expect(status).toBe(200);
});
