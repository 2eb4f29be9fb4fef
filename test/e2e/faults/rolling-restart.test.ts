/**
 * Rolling restart of every node with SIGTERM, under steady load: for each node a replacement is
 * started and waited ready, then the old one gets SIGTERM (readiness false, drain delay, in-flight
 * requests finished, exit 0). The pool never sends to a node that is not ready, so no request
 * fails: 0 × 401, 0 × 503 on reads, every session kept.
 */
import {
  expectHeld,
  FAULT_SECONDS,
  FaultDeployment,
  SCENARIO_TIMEOUT_MS,
  seconds,
} from '../../support/fault-deployment';
import { sleep } from '../../harness';

jest.setTimeout(SCENARIO_TIMEOUT_MS);

let d: FaultDeployment | undefined;
afterAll(() => d?.close());

test('rolling restart of every node (SIGTERM): 0 × 401, 0 × 503 on reads, every session kept', async () => {
  d = await FaultDeployment.start('rolling-restart');
  const load = d.startLoad();
  await sleep(FAULT_SECONDS * 1000);
  const faultAt = Date.now();
  const codes: Array<number | null> = [];
  for (const old of [...d.nodes]) {
    await d.startNode();
    codes.push(await d.stopNode(old));
  }
  await d.waitFullHealth();
  const health = seconds(faultAt);
  await sleep(FAULT_SECONDS * 1000);
  const counts = await load.stop();
  const r = await d.finish(`a. rolling restart of ${codes.length} nodes (SIGTERM)`, counts, health);
  expect(codes).toEqual(codes.map(() => 0));
  expect(codes.length).toBeGreaterThanOrEqual(2);
  expectHeld(r);
  // Writes are not held to 0 × 503 yet: at load average ~30 a registration answered 503 with no
  // Redis fault and still made its session (docs/reliability.md; issue 12 item 5).
  expect(r.counts.connectionErrors).toEqual({});
});
