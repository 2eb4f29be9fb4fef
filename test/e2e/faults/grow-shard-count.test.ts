/**
 * Growing the shard count under steady load (issue 15 item 4, ADR 260): `holdfast store reshard
 * --shards 1024` on a deployment that started with 256 shards, while its nodes (configured with
 * 256) serve; then every node is replaced by one configured with 1024 (a rolling restart). The
 * cookies made under 256 keep working on both, the revoked ones stay refused, and the count is
 * right: 0 × 401, 0 × 503 on reads, every session kept.
 */
import { sleep } from '../../harness';
import { runCli } from '../../support/cli';
import {
  expectHeld,
  FAULT_SECONDS,
  FaultDeployment,
  SCENARIO_TIMEOUT_MS,
  seconds,
  USERS,
} from '../../support/fault-deployment';

jest.setTimeout(SCENARIO_TIMEOUT_MS);

let d: FaultDeployment | undefined;
afterAll(() => d?.close());

interface Progress {
  phase: string;
  from: number;
  to: number;
  shardsDone: number;
  moved: number;
  elapsedMs: number;
}

test('grow 256 → 1024 shards while serving, then a rolling restart onto 1024: 0 × 401, 0 × 503 on reads', async () => {
  d = await FaultDeployment.start('grow-shard-count');
  const load = d.startLoad();
  await sleep(FAULT_SECONDS * 1000);
  const faultAt = Date.now();
  const run = await runCli(['store', 'reshard', '--shards', '1024', '--json'], d.storeEnv());
  expect(run.err.filter((l) => !l.startsWith('{'))).toEqual([]);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.out[0])).toEqual({ from: 256, to: 1024, done: true });
  const progress = run.err.map((l) => JSON.parse(l) as Progress);
  expect(progress.filter((p) => p.phase === 'shard')).toHaveLength(256);
  const last = progress[progress.length - 1];
  expect(last).toMatchObject({ phase: 'done', shardsDone: 256 });
  // About 3 in 4 of the users signed in before change shard (registrations during the split go
  // to their new shard directly and are not moved).
  expect(last.moved).toBeGreaterThan(USERS / 2);
  const reshardSeconds = seconds(faultAt);

  // Nodes configured with 1024 replace those configured with 256, one at a time.
  for (const old of [...d.nodes]) {
    await d.startNode({ HOLDFAST_STORE__REDIS__SHARDS: '1024' });
    await d.stopNode(old);
  }
  await d.waitFullHealth();
  const health = seconds(faultAt);
  await sleep(FAULT_SECONDS * 1000);
  const counts = await load.stop();
  const r = await d.finish(
    'g. grow the shard count 256 → 1024 (holdfast store reshard), then a rolling restart onto it',
    counts,
    health,
  );
  console.log(
    `grow-shard-count: ${last.moved} users moved in ${reshardSeconds} s (${(last.elapsedMs / 1000).toFixed(1)} s in the command, 12 s of it waiting for every node to read the state)`,
  );
  expectHeld(r);
});
