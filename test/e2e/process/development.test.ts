/**
 * `holdfast start` as a developer and a container meet it: on a real terminal (util-linux
 * `script` gives it a pseudo-terminal) it writes readable lines and prints the addresses to open;
 * with `workers: auto` under `taskset -c 0` (a real affinity mask of one CPU) it forks one worker
 * and says why, in its log and in `holdfast config check`.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { readCgroupQuota } from '../../../src/config';
import { freePort } from '../../harness';
import { childrenOf, request, spawnPerTest, waitFor, waitReady } from '../../support/process';

jest.setTimeout(120_000);

const spawnHoldfast = spawnPerTest();

/** `script -qec "<command>" /dev/null`: the command's stdout and stderr are a pseudo-terminal. */
const ON_A_TERMINAL = ['sh', '-c', 'exec script -qec "$*" /dev/null', 'sh'];
const ONE_CPU = ['taskset', '-c', '0'];

/** The holdfast primary below `pid` (script -> sh -> node). */
function primaryBelow(pid: number): number | undefined {
  for (const child of childrenOf(pid)) {
    const found = isHoldfast(child) ? child : primaryBelow(child);
    if (found) return found;
  }
  return undefined;
}

function isHoldfast(pid: number): boolean {
  try {
    // The node process itself, not the `sh -c "... src/cli/main.ts start"` around it.
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return /\/node$/.test(argv[0]) && argv.includes('src/cli/main.ts');
  } catch {
    return false;
  }
}

test('on a terminal in development: readable log lines, the addresses to open, / redirects', async () => {
  const port = await freePort();
  const metricsPort = await freePort();
  const node = spawnHoldfast(
    ['start'],
    {
      TERM: 'dumb', // no colours: the test reads the text
      HOLDFAST_HTTP__PORT: String(port),
      HOLDFAST_METRICS__PORT: String(metricsPort),
    },
    'development-tty',
    ON_A_TERMINAL,
  );
  await waitReady(port);
  const text = await waitFor('the addresses', async () => {
    const out = node.output().replace(/\r/g, '');
    return out.includes('/metrics') ? out : undefined;
  });
  expect(text).toMatch(
    /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: preflight passed: starting workers \{"role":"primary","workers":1,"workersReason":"1 worker: workers 1 \(default for env development\)"/m,
  );
  expect(text).not.toMatch(/^\{"level"/m);
  expect(text).toContain(
    [
      'holdfast: ready (env development), open:',
      `  sign in   http://localhost:${port}/login`,
      `  account   http://localhost:${port}/account`,
      `  health    http://localhost:${port}/health/ready`,
      `  metrics   http://localhost:${metricsPort}/metrics`,
    ].join('\n'),
  );
  const home = await request(port, '/');
  expect(home.status).toBe(302);
  expect(home.headers.location).toBe('/login');

  const primary = primaryBelow(node.pid);
  expect(primary).toBeDefined();
  process.kill(primary as number, 'SIGTERM');
  expect((await node.exited).code).toBe(0);
});

/** What `workers: auto` must say under `taskset -c 0` on this machine. */
function expectedReason(): RegExp {
  const host = cpus().length;
  // On one core, or inside a cgroup quota, the reason names those instead; the count is still 1.
  if (host === 1 || readCgroupQuota()) return /^1 worker: \S/;
  return new RegExp(`^1 worker: CPU affinity allows 1 of ${host} cores; no cgroup CPU quota$`);
}

test('workers: auto with an affinity of one CPU: one worker, and why, in the log and config check', async () => {
  const env = {
    HOLDFAST_WORKERS: 'auto',
    HOLDFAST_HTTP__PORT: String(await freePort()),
    HOLDFAST_METRICS__PORT: String(await freePort()),
  };
  const check = spawnHoldfast(['config', 'check'], env, 'workers-config-check', ONE_CPU);
  expect((await check.exited).code).toBe(0);
  const [first, ...rest] = check.stdoutLines();
  expect(first.replace(/^# /, '')).toMatch(expectedReason());
  expect(rest).toContain('workers: 1');

  const node = spawnHoldfast(['start'], env, 'workers-auto', ONE_CPU);
  await waitReady(Number(env.HOLDFAST_HTTP__PORT));
  // stdout is a pipe: JSON lines.
  const started = node
    .stdoutLines()
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'preflight passed: starting workers');
  expect(started?.workers).toBe(1);
  expect(String(started?.workersReason)).toMatch(expectedReason());
  expect(childrenOf(node.pid)).toHaveLength(1);
  node.child.kill('SIGTERM');
  expect((await node.exited).code).toBe(0);
});
