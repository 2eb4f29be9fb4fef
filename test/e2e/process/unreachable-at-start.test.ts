/**
 * `holdfast start` while Redis is down, with the default store.unreachableAtStart (listen, ADR 170):
 * - the workers listen at once: /health/live 200, /health/ready 503 with the reason, 503 (never
 *   401) on store-backed routes; Redis started late by the harness: ready by itself, no worker
 *   replaced, and sessions work;
 * - Redis that comes up misconfigured (no persistence): the node stops with exit 78 and the same
 *   FAIL line a start against it would print.
 */
import { freePort, RedisProcess, startRedis } from '../../harness';
import {
  childrenOf,
  cookiesOf,
  HoldfastProcess,
  productionEnv,
  request,
  spawnHoldfast,
  waitFor,
} from '../../support/process';

jest.setTimeout(120_000);

const running: HoldfastProcess[] = [];
const servers: RedisProcess[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) p.kill();
  for (const s of servers.splice(0)) await s.destroy();
});

async function downAtStart(name: string) {
  const redisPort = await freePort();
  const env = await productionEnv({ host: '127.0.0.1', port: redisPort });
  const port = Number(env.HOLDFAST_HTTP__PORT);
  const node = spawnHoldfast(['start'], env, name);
  running.push(node);
  await waitFor('/health/live 200', async () => {
    const r = await request(port, '/health/live');
    return r.status === 200 ? r : undefined;
  });
  return { redisPort, port, node };
}

test('Redis down at start: listens at once not ready, 503 on store routes; Redis started late: ready without a restart', async () => {
  // Nothing answers on redisPort yet: the node listens with no store at all.
  const { redisPort, port, node } = await downAtStart('unreachable-listen');
  const ready = await request(port, '/health/ready');
  expect(ready.status).toBe(503);
  expect(JSON.parse(ready.body)).toMatchObject({
    status: 'not ready',
    listening: true,
    draining: false,
    reasons: ['preflight not passed yet: the store was unreachable at start'],
  });
  const login = await request(port, '/auth/login', {
    method: 'POST',
    body: { email: 'nobody@example.com', password: 'not a real password at all' },
  });
  expect(login.status).toBe(503);
  expect(JSON.parse(login.body).code).toBe('HF_STORE_UNAVAILABLE');
  // A session cookie of the right form needs the store to answer: 503, never a 401 (logout).
  const me = await request(port, '/auth/me', {
    cookie: `__Host-holdfast=1.${'a'.repeat(22)}.${'b'.repeat(43)}`,
  });
  expect([me.status, JSON.parse(me.body).code]).toEqual([503, 'HF_STORE_UNAVAILABLE']);
  expect(node.stderrLines()).toContainEqual(
    expect.stringMatching(/^FAIL store\.reachable +found no node answers/),
  );
  expect(node.stderrLines()).toContainEqual(
    expect.stringMatching(/^holdfast: store unavailable: the workers listen with readiness false/),
  );
  await waitFor('both workers', async () => (childrenOf(node.pid).length === 2 ? true : undefined));
  const workers = childrenOf(node.pid);

  servers.push(await startRedis({ port: redisPort }));
  await waitFor('readiness true on both workers', async () => {
    const replies = await Promise.all([1, 2, 3, 4].map(() => request(port, '/health/ready')));
    return replies.every((r) => r.status === 200) ? true : undefined;
  });
  expect(childrenOf(node.pid)).toEqual(workers);
  expect(node.stderrLines().at(-1)).toMatch(/^preflight: \d+ passed, .*: ok$/);
  const reg = await request(port, '/auth/register', {
    method: 'POST',
    body: { email: `late.${Date.now()}@example.com`, password: 'the store arrived after us 7' },
  });
  expect(reg.status).toBe(201);
  expect((await request(port, '/auth/me', { cookie: cookiesOf(reg) })).status).toBe(200);
  node.child.kill('SIGTERM');
  expect((await node.exited).code).toBe(0);
});

test('Redis down at start, then up without persistence: the node stops with exit 78 and the FAIL line', async () => {
  const { redisPort, node } = await downAtStart('unreachable-then-misconfigured');
  servers.push(await startRedis({ port: redisPort, appendonly: false }));
  const exit = await node.exited;
  expect(exit.code).toBe(78);
  expect(node.stderrLines()).toContainEqual(
    expect.stringMatching(
      /^FAIL store\.persistence +found 127\.0\.0\.1:\d+ \(master\): appendonly no, no save points;/,
    ),
  );
  expect(node.stderrLines().at(-1)).toMatch(/configuration problem \(exit 78\)$/);
});
