/**
 * The near cache across processes (ADR 225): two `holdfast start` nodes with two workers each on
 * one Redis, HOLDFAST_NEARCACHE__ENABLED=true and a staleness of 30 s, so only the invalidation
 * can end a session on the other node in time. A logout on one node is a 401 on every worker of
 * the other at once.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../harness';
import { parseExposition, valueOf } from '../../support/exposition';
import {
  canary,
  cookiesOf,
  request,
  spawnPerTest,
  waitFor,
  waitReady,
} from '../../support/process';
import { standaloneForFile } from '../../support/redis';

jest.setTimeout(240_000);

const redis = standaloneForFile();
const spawnHoldfast = spawnPerTest();

async function startNode(shared: NodeJS.ProcessEnv, name: string) {
  const port = await freePort();
  const metrics = await freePort();
  spawnHoldfast(
    ['start'],
    {
      ...shared,
      HOLDFAST_HTTP__PORT: String(port),
      HOLDFAST_METRICS__PORT: String(metrics),
    },
    `near-cache-${name}`,
  );
  await waitReady(port, 200, 110_000);
  return { port, metrics, origin: `http://127.0.0.1:${port}` };
}

/** The node's metrics: its workers' counters summed by the primary, the subscription their min. */
async function scrape(port: number) {
  const r = await request(port, '/metrics');
  return parseExposition(r.body);
}

test('a logout on one node is a 401 on every worker of the other at once', async () => {
  const cookiePassword = randomBytes(30).toString('base64');
  canary(cookiePassword);
  const shared = {
    HOLDFAST_ENV: 'test',
    HOLDFAST_COOKIE__PASSWORD: cookiePassword,
    HOLDFAST_HTTP__HOST: '127.0.0.1',
    HOLDFAST_METRICS__ENABLED: 'true',
    HOLDFAST_METRICS__HOST: '127.0.0.1',
    HOLDFAST_WORKERS: '2',
    HOLDFAST_LOG__LEVEL: 'info',
    HOLDFAST_STORE__TYPE: 'redis',
    HOLDFAST_STORE__REDIS__MODE: 'standalone',
    HOLDFAST_STORE__REDIS__NODES: `${redis().host}:${redis().port}`,
    HOLDFAST_STORE__REDIS__KEY_PREFIX: `e2e${randomBytes(3).toString('hex')}`,
    HOLDFAST_NEARCACHE__ENABLED: 'true',
    HOLDFAST_NEAR_CACHE__STALENESS: '30s',
  };
  const [one, two] = await Promise.all([startNode(shared, 'one'), startNode(shared, 'two')]);
  await waitFor('both nodes subscribed', async () => {
    const both = await Promise.all([scrape(one.metrics), scrape(two.metrics)]);
    return both.every((e) => valueOf(e, 'holdfast_near_cache_subscribed') === 1) ? true : undefined;
  });

  const password = 'correct horse battery staple';
  canary(password);
  const reg = await request(one.port, '/auth/register', {
    method: 'POST',
    body: { email: `near.${Date.now()}@example.com`, password },
    headers: { origin: one.origin },
  });
  expect(reg.status).toBe(201);
  const cookie = cookiesOf(reg);

  // New connections: node:cluster hands them to both workers of node two.
  const me = () => request(two.port, '/auth/me', { cookie });
  for (let i = 0; i < 40; i++) expect((await me()).status).toBe(200);
  const before = await scrape(two.metrics);
  expect(valueOf(before, 'holdfast_near_cache_hits_total')).toBeGreaterThan(30);

  const agent = new http.Agent({ keepAlive: true });
  const out = await request(one.port, '/auth/logout', {
    method: 'POST',
    cookie,
    headers: { origin: one.origin },
    agent,
  });
  expect(out.status).toBe(204);
  agent.destroy();
  // Within a few milliseconds, far below the 30 s staleness: the invalidation ended it everywhere.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const after = [];
  for (let i = 0; i < 40; i++) after.push((await me()).status);
  expect(after).toEqual(Array(40).fill(401));
  const metrics = await scrape(two.metrics);
  // Each worker of node two applied the logout's invalidation (the primary sums the workers).
  expect(valueOf(metrics, 'holdfast_near_cache_invalidations_total')).toBeGreaterThanOrEqual(2);
});
