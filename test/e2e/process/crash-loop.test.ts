/**
 * Workers that die are replaced with backoff; five deaths within 30 s are a crash loop, and the
 * node stops with HF_WORKER_CRASH_LOOP and exit 70 instead of spinning.
 */
import {
  childrenOf,
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

test('a worker that dies is replaced; five deaths in 30 s stop the node with HF_WORKER_CRASH_LOOP (exit 70)', async () => {
  const env = await productionEnv(redis(), { HOLDFAST_WORKERS: '1' });
  const port = Number(env.HOLDFAST_HTTP__PORT);
  node = spawnHoldfast(['start'], env, 'crash-loop');
  const first = JSON.parse((await waitReady(port)).body).pid as number;

  process.kill(first, 'SIGKILL');
  // Replaced: a new worker serves, and the node never stopped.
  const second = await waitFor('a replacement worker', async () => {
    const r = await request(port, '/health/ready').catch(() => undefined);
    const pid = r?.status === 200 ? (JSON.parse(r.body).pid as number) : undefined;
    return pid !== undefined && pid !== first ? pid : undefined;
  });
  expect(childrenOf(node?.pid ?? 0)).toEqual([second]);

  // Four more deaths in a row, each as soon as the replacement exists.
  let victim = second;
  for (let i = 0; i < 4; i++) {
    process.kill(victim, 'SIGKILL');
    if (i === 3) break;
    const dead = victim;
    victim = await waitFor('the next replacement', async () =>
      childrenOf(node?.pid ?? 0).find((p) => p !== dead),
    );
  }
  const exit = await node.exited;
  expect(exit.code).toBe(70);
  expect(node.stderrLines().find((l) => l.includes('HF_WORKER_CRASH_LOOP'))).toMatch(
    /^holdfast: HF_WORKER_CRASH_LOOP 5 worker deaths within 30s \(last: exit code -, signal SIGKILL\); the node stops instead of restarting them forever/,
  );
  expect(await request(port, '/health/live').catch((e: Error) => e.message)).toMatch(
    /ECONNREFUSED/,
  );
});
