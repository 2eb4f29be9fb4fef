/**
 * `holdfast start` before the store is there, and against a misconfigured store, as processes:
 * - store down, store.unreachableAtStart exit: exit 69 with the preflight lines; the port never
 *   opened (the default, listen, is in unreachable-at-start.test.ts);
 * - store down, store.startupWait set: the node waits (nothing listens), then becomes ready
 *   without a restart once Redis starts;
 * - the same problem gives the same lines from `holdfast preflight` and `holdfast start`;
 * - a clock 30 s off (faketime) warns in process.clock.
 */
import { freePort, RedisProcess, startRedis } from '../../harness';
import {
  productionEnv,
  spawnPerTest,
  waitFor,
  waitReady,
  watchPort,
  request,
} from '../../support/process';

jest.setTimeout(120_000);

const holdfast = spawnPerTest();
const servers: RedisProcess[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.destroy();
});

const lineOf = (lines: string[], id: string) =>
  lines.find((l) => l.split(/\s+/)[1] === id) ?? `(no ${id} line)`;

test('store down and store.unreachableAtStart exit: exit 69 with the preflight lines; the HTTP port never opened', async () => {
  const redisPort = await freePort();
  const env = await productionEnv(
    { host: '127.0.0.1', port: redisPort },
    { HOLDFAST_STORE__UNREACHABLE_AT_START: 'exit' },
  );
  const watcher = watchPort(Number(env.HOLDFAST_HTTP__PORT));
  const node = holdfast(['start'], env, 'store-down-exit');
  const exit = await node.exited;
  expect(await watcher.stop()).toBe(false);
  expect(exit.code).toBe(69);
  expect(lineOf(node.stderrLines(), 'store.reachable')).toMatch(
    new RegExp(
      `^FAIL store\\.reachable +found no node answers: 127\\.0\\.0\\.1:${redisPort} \\(listed\\): connection refused;`,
    ),
  );
  expect(node.stderrLines().at(-1)).toMatch(
    /^preflight: \d+ passed, 0 warnings, 1 failed, 0 not yet, \d+ skipped: store unavailable or not ready \(exit 69\)$/,
  );
});

test('store down and store.startupWait 60s: waits without listening, then ready without a restart', async () => {
  const redisPort = await freePort();
  const env = await productionEnv(
    { host: '127.0.0.1', port: redisPort },
    { HOLDFAST_STORE__STARTUP_WAIT: '60s' },
  );
  const httpPort = Number(env.HOLDFAST_HTTP__PORT);
  const watcher = watchPort(httpPort);
  const node = holdfast(['start'], env, 'store-down-wait');
  await waitFor('a retry line', async () =>
    node.stderrLines().find((l) => l.startsWith('holdfast: store not ready, retrying for up to')),
  );
  // Still waiting a while later, still not listening: readiness is false the only way it can be.
  await waitFor('a second retry line', async () =>
    node.stderrLines().filter((l) => l.startsWith('holdfast: store not ready')).length >= 2
      ? true
      : undefined,
  );
  expect(await watcher.stop()).toBe(false);
  expect(await request(httpPort, '/health/ready').catch((e: Error) => e.message)).toMatch(
    /ECONNREFUSED/,
  );

  servers.push(await startRedis({ port: redisPort }));
  const ready = await waitReady(httpPort);
  expect(JSON.parse(ready.body)).toMatchObject({ status: 'ready', store: 'up' });
  expect(node.child.exitCode).toBeNull();
  expect(node.stderrLines().filter((l) => l.startsWith('FAIL'))).toEqual([]);
  node.child.kill('SIGTERM');
  expect((await node.exited).code).toBe(0);
});

test('the same problem: `holdfast preflight` and `holdfast start` print the same lines and exit 78', async () => {
  const redis = await startRedis({ appendonly: false });
  servers.push(redis);
  const env = await productionEnv(redis);
  const watcher = watchPort(Number(env.HOLDFAST_HTTP__PORT));
  const pre = holdfast(['preflight'], env, 'same-lines-preflight');
  const start = holdfast(['start'], env, 'same-lines-start');
  const [preExit, startExit] = await Promise.all([pre.exited, start.exited]);
  expect(await watcher.stop()).toBe(false);
  expect([preExit.code, startExit.code]).toEqual([78, 78]);
  const steady = (lines: string[]) =>
    lines.map((l) => l.replace(/largest difference [^;]+ over/, 'largest difference N over'));
  expect(steady(start.stderrLines())).toEqual(steady(pre.stdoutLines()));
  expect(lineOf(pre.stdoutLines(), 'store.persistence')).toMatch(
    /^FAIL store\.persistence +found 127\.0\.0\.1:\d+ \(master\): appendonly no, no save points; expected AOF or RDB snapshots on every node/,
  );
});

test('process.clock: this machine 30 s ahead of the store warns, and does not stop a start (exit 0)', async () => {
  const redis = await startRedis();
  servers.push(redis);
  const pre = holdfast(['preflight'], await productionEnv(redis), 'clock', [
    'faketime',
    '-f',
    '+30s',
  ]);
  expect((await pre.exited).code).toBe(0);
  expect(lineOf(pre.stdoutLines(), 'process.clock')).toMatch(
    new RegExp(
      `^WARN process\\.clock +found 127\\.0\\.0\\.1:${redis.port} is (29|30|31)\\.\\ds behind this machine; expected the store's TIME within 2s of this machine's clock; fix: synchronise the clocks`,
    ),
  );
});
