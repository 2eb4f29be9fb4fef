/**
 * `holdfast start` (two workers) while its Redis's configuration changes under it (ADR 171): AOF
 * switched off with CONFIG SET is logged once, with the preflight line, by the primary (not once
 * per worker or per re-check), holdfast_store_drift{check="store.persistence"} turns 1, readiness
 * stays true; AOF back on: one "back" line and the metric 0.
 */
import { getProvider, RedisNode } from '../../harness';
import {
  HoldfastProcess,
  productionEnv,
  request,
  spawnHoldfast,
  waitFor,
  waitReady,
} from '../../support/process';

jest.setTimeout(120_000);

let redis: RedisNode;
let node: HoldfastProcess | undefined;

beforeAll(async () => {
  redis = await getProvider().standalone();
});

afterAll(async () => {
  node?.kill();
  await redis?.destroy();
});

async function driftMetric(metricsPort: number): Promise<string | undefined> {
  const body = (await request(metricsPort, '/metrics')).body;
  return /^holdfast_store_drift\{check="store\.persistence"\} (\d)$/m.exec(body)?.[1];
}

const changed = (n: HoldfastProcess) =>
  n.stdoutLines().filter((l) => l.includes('store configuration changed since start'));
const back = (n: HoldfastProcess) =>
  n.stdoutLines().filter((l) => l.includes('store configuration back to what start found'));

test('AOF switched off while running: one log line with the preflight line, the metric, readiness still true; back on: one line', async () => {
  const env = await productionEnv(redis, {
    HOLDFAST_STORE__DRIFT_INTERVAL: '300ms',
    HOLDFAST_STORE__EXPECTED_SESSIONS: '1000',
  });
  const port = Number(env.HOLDFAST_HTTP__PORT);
  const metricsPort = Number(env.HOLDFAST_METRICS__PORT);
  node = spawnHoldfast(['start'], env, 'drift');
  await waitReady(port);
  expect(await waitFor('the drift metric', () => driftMetric(metricsPort))).toBe('0');

  await redis.command(['CONFIG', 'SET', 'appendonly', 'no']);
  await waitFor('the drift line', async () => (changed(node!).length ? true : undefined));
  // Many re-checks later, still one line.
  await new Promise((r) => setTimeout(r, 2000));
  expect(changed(node).length).toBe(1);
  const line = JSON.parse(changed(node)[0]) as { level: number; msg: string; check: string };
  expect(line.level).toBe(40);
  expect(line.check).toBe('store.persistence');
  expect(line.msg).toMatch(
    /^store configuration changed since start: FAIL store\.persistence +found 127\.0\.0\.1:\d+ \(master\): appendonly no, no save points; expected AOF or RDB snapshots on every node \(store\.redis\.require\.persistence any\); fix: set appendonly yes/,
  );
  expect(await driftMetric(metricsPort)).toBe('1');
  for (let i = 0; i < 4; i++) expect((await request(port, '/health/ready')).status).toBe(200);

  await redis.command(['CONFIG', 'SET', 'appendonly', 'yes']);
  await waitFor('the back line', async () => (back(node!).length ? true : undefined));
  await new Promise((r) => setTimeout(r, 1000));
  expect(back(node).length).toBe(1);
  expect(changed(node).length).toBe(1);
  expect(await driftMetric(metricsPort)).toBe('0');

  node.child.kill('SIGTERM');
  expect((await node.exited).code).toBe(0);
});
