import { loadSettings } from '../../../src/config';
import { createLogger } from '../../../src/log/logger';
import { RunningNode, startNode } from '../../../src/server';
import { buildTestApp } from '../../support/app';

/**
 * `/` on the standalone server (startNode, what `holdfast start` runs in each worker) redirects a
 * person who opens the bare address to a page; the plugin used as a library leaves `/` alone.
 */
const settings = loadSettings({
  env: { HOLDFAST_ENV: 'test', HOLDFAST_HTTP__HOST: '127.0.0.1', HOLDFAST_HTTP__PORT: '0' },
});

let node: RunningNode;
let base: string;

beforeAll(async () => {
  node = await startNode(settings, { logger: createLogger('silent') });
  base = node.server.info.uri;
});

afterAll(async () => {
  await node?.shutdown('test over');
});

async function home(cookie?: string): Promise<Response> {
  return fetch(`${base}/`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

test('signed out: 302 to /login', async () => {
  const res = await home();
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('/login');
});

test('an unknown or malformed session cookie is "signed out": 302 to /login, not an error', async () => {
  const res = await home(
    'holdfast=1.AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
  );
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('/login');
});

test('signed in: 302 to /account', async () => {
  const reg = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'home.test@example.com', password: 'correct horse battery' }),
  });
  expect(reg.status).toBe(201);
  const cookie = reg.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const res = await home(cookie);
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('/account');
  // The page it points to really is the signed-in page.
  expect((await fetch(`${base}/account`, { headers: { cookie } })).status).toBe(200);
});

test('the plugin used as a library does not take `/` from the host app', async () => {
  const app = await buildTestApp();
  try {
    expect((await app.server.inject('/')).statusCode).toBe(404);
  } finally {
    await app.server.stop();
  }
});
