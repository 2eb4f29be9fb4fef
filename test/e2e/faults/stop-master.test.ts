/**
 * SIGSTOP of a master for longer than cluster-node-timeout (2 s), under steady load, then
 * SIGCONT: a frozen server keeps its connections open and answers nothing, so every command sent
 * to it waits for store.redis.commandTimeout. Its replica is promoted; once thawed it finds
 * itself failed over and rejoins as a replica. 0 × 401, every request answered within
 * commandTimeout + margin (ANSWER_WITHIN_MS, ADR 245), every session kept, no read answered 503
 * (replica reads; ALLOWED_READ_503).
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

/** How long the master stays frozen: well past cluster-node-timeout plus the election. */
const FROZEN_SECONDS = Number(process.env.FAULT_FROZEN_SECONDS ?? 6);

let d: FaultDeployment | undefined;
afterAll(() => d?.close());

test('SIGSTOP a master past cluster-node-timeout, then SIGCONT: it rejoins as a replica', async () => {
  d = await FaultDeployment.start('stop-master');
  const load = d.startLoad();
  await sleep(FAULT_SECONDS * 1000);
  const victim = await d.master();
  const faultAt = Date.now();
  victim.signal('SIGSTOP');
  try {
    await sleep(FROZEN_SECONDS * 1000);
  } finally {
    victim.signal('SIGCONT');
  }
  await d.waitFullHealth();
  const health = seconds(faultAt);
  await sleep(FAULT_SECONDS * 1000);
  const counts = await load.stop();
  const r = await d.finish(
    `c. SIGSTOP of a master for ${FROZEN_SECONDS} s, then SIGCONT`,
    counts,
    health,
  );
  expect((await victim.info('replication')).role).toBe('slave');
  expectHeld(r);
});
