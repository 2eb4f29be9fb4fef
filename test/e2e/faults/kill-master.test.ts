/**
 * kill -9 of a master under steady load: its replica is promoted (cluster-node-timeout 2 s), and
 * the killed server, started again on its AOF, comes back as a replica. No user is logged out
 * (0 × 401), every session is valid afterwards, revoked ones stay revoked, and no read answers 503:
 * the replicas answer while no master owns the slot (ADR 205, 241; ALLOWED_READ_503).
 */
import { sleep } from '../../harness';
import {
  expectHeld,
  FAULT_SECONDS,
  FaultDeployment,
  SCENARIO_TIMEOUT_MS,
  seconds,
} from '../../support/fault-deployment';

jest.setTimeout(SCENARIO_TIMEOUT_MS);

let d: FaultDeployment | undefined;
afterAll(() => d?.close());

test('kill -9 of a master: 0 × 401, every session kept, the old master back as a replica', async () => {
  d = await FaultDeployment.start('kill-master');
  const load = d.startLoad();
  await sleep(FAULT_SECONDS * 1000);
  const victim = await d.master();
  const faultAt = Date.now();
  await victim.kill9();
  // Failover first (only live nodes count), then the old master back on its AOF.
  await d.cluster.waitForHealthy({ timeoutMs: 30_000 });
  const failoverSeconds = seconds(faultAt);
  await victim.start();
  await d.waitFullHealth();
  const health = seconds(faultAt);
  await sleep(FAULT_SECONDS * 1000);
  const counts = await load.stop();
  const r = await d.finish('b. kill -9 of a master', counts, health);
  console.log(`kill-master: failover in ${failoverSeconds} s`);
  expect((await victim.info('replication')).role).toBe('slave');
  expectHeld(r);
});
