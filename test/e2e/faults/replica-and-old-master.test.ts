/**
 * Under steady load: a replica killed (-9) and started again on its AOF, which must link to its
 * master again; then a master killed, its replica promoted, and the old master started again,
 * which must come back as a replica. 0 × 401, every session kept, no read answered 503 during
 * the failover (replica reads; ALLOWED_READ_503); writes whose slot has no master for a moment
 * may answer 503.
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

test('a replica killed and restarted, then the old master back as a replica', async () => {
  d = await FaultDeployment.start('replica-and-old-master');
  const load = d.startLoad();
  await sleep(FAULT_SECONDS * 1000);
  const replicaView = (await d.cluster.replicas())[0];
  const replica = d.cluster.nodeAt(replicaView);
  if (!replica) throw new Error('no replica');
  const faultAt = Date.now();
  await replica.kill9();
  await sleep(1000);
  await replica.start();
  await d.waitFullHealth();
  expect((await replica.info('replication')).master_link_status).toBe('up');
  const readsAfterReplica = load.counts.unavailableReads;

  const oldMaster = await d.master();
  await oldMaster.kill9();
  await d.cluster.waitForHealthy({ timeoutMs: 30_000 });
  await oldMaster.start();
  await d.waitFullHealth();
  const health = seconds(faultAt);
  await sleep(FAULT_SECONDS * 1000);
  const counts = await load.stop();
  const r = await d.finish(
    'd. a replica killed -9 and restarted; a master killed, back as a replica',
    counts,
    health,
  );
  expect((await oldMaster.info('replication')).role).toBe('slave');
  // Losing a replica costs no read: reads go to masters.
  expect(readsAfterReplica).toBe(0);
  expectHeld(r);
});
