/**
 * The whole Redis Cluster shut down (SIGTERM, masters first) under steady load and started again
 * from its AOF files: while it is down every Holdfast node is unready (so the pool sends
 * nothing), and once it is back the nodes turn ready by themselves, every session is back, the
 * revoked ones are still revoked and the live count is right.
 */
import { shutdownCluster, sleep, startClusterAgain } from '../../harness';
import {
  expectHeld,
  FAULT_SECONDS,
  FaultDeployment,
  SCENARIO_TIMEOUT_MS,
  seconds,
} from '../../support/fault-deployment';
import { waitFor } from '../../support/process';

jest.setTimeout(SCENARIO_TIMEOUT_MS);

let d: FaultDeployment | undefined;
afterAll(() => d?.close());

test('whole cluster shut down and started from AOF: every session back, revoked stay revoked', async () => {
  d = await FaultDeployment.start('cluster-restart');
  const load = d.startLoad();
  await sleep(FAULT_SECONDS * 1000);
  const dep = d;
  const faultAt = Date.now();
  await shutdownCluster(dep.cluster);
  await waitFor(
    'every node unready',
    async () => (dep.pool.readyCount() === 0 ? true : undefined),
    30_000,
  );
  await sleep(1000);
  await startClusterAgain(dep.cluster);
  await dep.waitFullHealth();
  const health = seconds(faultAt);
  await sleep(FAULT_SECONDS * 1000);
  const counts = await load.stop();
  const r = await dep.finish('e. whole cluster shut down and started from AOF', counts, health);
  expect(r.counts.noBackendWaits).toBeGreaterThan(0);
  expectHeld(r);
});
