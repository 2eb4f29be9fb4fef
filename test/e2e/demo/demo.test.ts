import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { configFromEnv, DemoConfig, restart } from '../../../scripts/demo/demo';
import { canary, LOG_DIR } from '../../harness/logs';
import { freeClusterPorts, freePorts } from '../../harness/ports';
import { notYet, waitUntil } from '../../harness/wait';

/**
 * `make demo` end to end: the whole local topology (6-node Redis Cluster, 3 Holdfast nodes in
 * production mode, the readiness-aware proxy, Prometheus), then a rolling restart of every
 * Holdfast node with SIGTERM while a signed-in client keeps making requests through the proxy.
 * Not one request may be answered 401 or fail. `make demo-down` must stop exactly the PIDs
 * `make demo` started.
 */
const execFileP = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const DIR = path.join(ROOT, 'test-artifacts', `demo-${process.pid}`);
const PASSWORD = 'demo rolling restart passphrase 7c1e';

let env: NodeJS.ProcessEnv;
let config: DemoConfig;
let startedPids: number[] = [];

const pids = () =>
  fs
    .readdirSync(path.join(DIR, 'pids'))
    .map((f) => Number(fs.readFileSync(path.join(DIR, 'pids', f), 'utf8')));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  const [proxy, prometheus, ...rest] = await freePorts(8);
  env = {
    ...process.env,
    DEMO_DIR: DIR,
    DEMO_PROXY_PORT: String(proxy),
    DEMO_PROMETHEUS_PORT: String(prometheus),
    DEMO_NODE_PORTS: rest.slice(0, 3).join(','),
    DEMO_METRICS_PORTS: rest.slice(3, 6).join(','),
    DEMO_REDIS_PORTS: (await freeClusterPorts(6)).join(','),
  };
  config = configFromEnv(env);
  canary(PASSWORD);
  await execFileP('make', ['--no-print-directory', 'demo'], { cwd: ROOT, env, timeout: 240_000 });
  startedPids = pids();
  const state = JSON.parse(fs.readFileSync(path.join(DIR, 'state.json'), 'utf8')) as {
    cookiePassword: string;
  };
  canary(state.cookiePassword);
}, 300_000);

afterAll(async () => {
  await execFileP('make', ['--no-print-directory', 'demo-down'], {
    cwd: ROOT,
    env,
    timeout: 60_000,
  });
  // The demo's logs join the others, so `make test` scans them for secrets too.
  const logs = path.join(DIR, 'logs');
  if (fs.existsSync(logs)) {
    for (const f of fs.readdirSync(logs)) {
      fs.copyFileSync(path.join(logs, f), path.join(LOG_DIR, `demo-${f}`));
    }
  }
  fs.rmSync(DIR, { recursive: true, force: true });
}, 90_000);

test('a rolling restart of every node through the proxy: no 401 and no failed request', async () => {
  const base = `http://127.0.0.1:${config.proxyPort}`;
  const reg = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // Nothing of the email in the password: the password rules refuse that.
    body: JSON.stringify({ email: 'lovelace@example.com', password: PASSWORD }),
  });
  expect(reg.status).toBe(201);
  const cookie = reg.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  expect(cookie).toMatch(/^__Host-holdfast=/);

  const statuses = new Map<number, number>();
  const failures: string[] = [];
  let stop = false;
  const client = (async () => {
    while (!stop) {
      try {
        const res = await fetch(`${base}/auth/me`, { headers: { cookie } });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  })();

  const before = config.nodePorts.map((_p, i) =>
    Number(fs.readFileSync(path.join(DIR, 'pids', `holdfast-${i + 1}.pid`), 'utf8')),
  );
  for (let n = 1; n <= config.nodePorts.length; n++) await restart(config, n);
  stop = true;
  await client;

  const after = config.nodePorts.map((_p, i) =>
    Number(fs.readFileSync(path.join(DIR, 'pids', `holdfast-${i + 1}.pid`), 'utf8')),
  );
  for (let i = 0; i < before.length; i++) {
    expect(after[i]).not.toBe(before[i]);
    expect(alive(before[i])).toBe(false);
  }
  expect({ failures, statuses: Object.fromEntries(statuses) }).toEqual({
    failures: [],
    statuses: { 200: expect.any(Number) },
  });
  expect(statuses.get(200)).toBeGreaterThan(50);
}, 240_000);

test('Prometheus scrapes all three nodes', async () => {
  const url = `http://127.0.0.1:${config.prometheusPort}/api/v1/targets`;
  const expected = config.metricsPorts.map(String).sort();
  // Prometheus applies discovered targets every few seconds: poll, bounded.
  const scraped = await waitUntil(
    'Prometheus to list the three nodes',
    async () => {
      const res = (await (await fetch(url)).json()) as {
        data: { activeTargets: { scrapeUrl: string }[] };
      };
      const ports = res.data.activeTargets.map((t) => new URL(t.scrapeUrl).port).sort();
      return ports.length === expected.length ? ports : notYet(`targets: ${ports.join(', ')}`);
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  expect(scraped).toEqual(expected);
});

test('make demo-down stops exactly the processes make demo started', async () => {
  const now = pids();
  expect(now.length).toBe(startedPids.length);
  await execFileP('make', ['--no-print-directory', 'demo-down'], {
    cwd: ROOT,
    env,
    timeout: 60_000,
  });
  for (const pid of now) expect({ pid, alive: alive(pid) }).toEqual({ pid, alive: false });
  expect(fs.readdirSync(path.join(DIR, 'pids'))).toEqual([]);
}, 90_000);
