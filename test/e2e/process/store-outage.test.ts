/**
 * Redis killed under a running node (two workers): readiness turns false, authenticated requests
 * get 503 with Retry-After (never 401), no worker crashes; Redis restarted from its AOF: readiness
 * turns true by itself and the session made before the outage still works.
 */
import {
  canary,
  childrenOf,
  cookiesOf,
  productionEnv,
  request,
  spawnPerTest,
  waitFor,
  waitReady,
  HoldfastProcess,
} from '../../support/process';
import { standaloneForFile } from '../../support/redis';

jest.setTimeout(120_000);

const redis = standaloneForFile();
const spawnHoldfast = spawnPerTest();
let node: HoldfastProcess | undefined;

test('kill Redis: ready false, 503 not 401, no crash; restart it: ready again, the session still works', async () => {
  const env = await productionEnv(redis(), { HOLDFAST_WORKERS: '2' });
  const port = Number(env.HOLDFAST_HTTP__PORT);
  node = spawnHoldfast(['start'], env, 'store-outage');
  await waitFor('both workers started', async () =>
    childrenOf(node?.pid ?? 0).length === 2 ? true : undefined,
  );
  // Both workers ready, not just the one that answered: a worker listens before its store
  // connection is up and answers 503 until it is (a CI run registered on that worker).
  await waitReady(port, 200, 60_000, 6);
  const workers = childrenOf(node.pid);
  // The first start recorded the layout that later starts are checked against (store.layout).
  const meta = await redis().command([
    'HGETALL',
    `{${env.HOLDFAST_STORE__REDIS__KEY_PREFIX}}:meta`,
  ]);
  expect(meta).toEqual([
    'shards',
    '256',
    'keyPrefix',
    env.HOLDFAST_STORE__REDIS__KEY_PREFIX,
    'format',
    'session-4 series-2',
    'liveBuckets',
    '64',
    'userBuckets',
    '16',
  ]);

  // Nothing of the email (outage.…@example.com) in it: a password containing it is refused.
  const password = 'kill the store, keep the session 1';
  canary(password);
  const reg = await request(port, '/auth/register', {
    method: 'POST',
    body: { email: `outage.${Date.now()}@example.com`, password },
  });
  expect(reg.status).toBe(201);
  const cookie = cookiesOf(reg);
  expect((await request(port, '/auth/me', { cookie })).status).toBe(200);

  await redis().kill9();
  // Every worker checks on its own: wait until requests spread over both see the store down.
  await waitFor('readiness false on both workers', async () => {
    const replies = await Promise.all([1, 2, 3, 4].map(() => request(port, '/health/ready')));
    return replies.every((r) => r.status === 503) ? replies : undefined;
  });
  for (let i = 0; i < 6; i++) {
    const me = await request(port, '/auth/me', { cookie });
    expect(me.status).toBe(503);
    expect(Number(me.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(me.body).code).toBe('HF_STORE_UNAVAILABLE');
    expect(me.headers['set-cookie']).toBeUndefined();
  }
  const notReady = JSON.parse((await request(port, '/health/ready')).body);
  expect(notReady).toMatchObject({
    status: 'not ready',
    store: 'down',
    listening: true,
    draining: false,
  });
  expect((await request(port, '/health/live')).status).toBe(200);
  // No worker died and none was replaced.
  expect(childrenOf(node.pid)).toEqual(workers);

  await redis().start();
  await waitFor('readiness true on both workers', async () => {
    const replies = await Promise.all([1, 2, 3, 4].map(() => request(port, '/health/ready')));
    return replies.every((r) => r.status === 200) ? true : undefined;
  });
  const me = await request(port, '/auth/me', { cookie });
  expect(me.status).toBe(200);
  expect(childrenOf(node.pid)).toEqual(workers);
  expect(node.output()).toContain(
    '"msg":"store down: readiness false, requests needing it get 503"',
  );

  node.child.kill('SIGTERM');
  expect((await node.exited).code).toBe(0);
});
