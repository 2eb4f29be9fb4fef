/**
 * `make demo`: the deploy/compose.yaml topology without Docker, from Debian's redis-server and
 * prometheus and the built project: a 6-node Redis Cluster (3 masters + 3 replicas, AOF), 3
 * Holdfast nodes in production mode, a round-robin proxy that skips nodes that are not ready
 * (scripts/demo/proxy.ts), and Prometheus with the rules. Everything runs detached; its PIDs
 * are written under the demo directory, and `make demo-down` stops exactly those.
 *
 *   demo.ts up | down | restart N | status
 *
 * Ports and the directory can be moved with DEMO_DIR, DEMO_PROXY_PORT, DEMO_REDIS_PORTS,
 * DEMO_NODE_PORTS, DEMO_METRICS_PORTS, DEMO_PROMETHEUS_PORT (comma-separated lists), so a test
 * can run one beside a developer's.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const HOST = '127.0.0.1';
const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

export interface DemoConfig {
  readonly dir: string;
  readonly proxyPort: number;
  readonly redisPorts: number[];
  readonly nodePorts: number[];
  readonly metricsPorts: number[];
  readonly prometheusPort: number;
}

const list = (v: string | undefined, fallback: number[]) =>
  v ? v.split(',').map((s) => Number(s.trim())) : fallback;

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  return {
    dir: path.resolve(env.DEMO_DIR ?? path.join(ROOT, '.demo')),
    proxyPort: Number(env.DEMO_PROXY_PORT ?? 8080),
    redisPorts: list(env.DEMO_REDIS_PORTS, [7001, 7002, 7003, 7004, 7005, 7006]),
    nodePorts: list(env.DEMO_NODE_PORTS, [3101, 3102, 3103]),
    metricsPorts: list(env.DEMO_METRICS_PORTS, [9501, 9502, 9503]),
    prometheusPort: Number(env.DEMO_PROMETHEUS_PORT ?? 9090),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pidFile = (c: DemoConfig, name: string) => path.join(c.dir, 'pids', `${name}.pid`);
const logFile = (c: DemoConfig, name: string) => path.join(c.dir, 'logs', `${name}.log`);

/** Starts one detached process, its output in logs/<name>.log, its PID in pids/<name>.pid. */
function launch(c: DemoConfig, name: string, cmd: string, args: string[], env = {}): number {
  const out = fs.openSync(logFile(c, name), 'a');
  const child = spawn(cmd, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...env },
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  child.unref();
  fs.writeFileSync(pidFile(c, name), `${child.pid}\n`);
  return child.pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(
    `demo: ${what} did not happen within ${timeoutMs / 1000}s (logs in the demo directory)`,
  );
}

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await execFileP('redis-cli', ['-h', HOST, '-p', String(port), ...args], {
    timeout: 5000,
  });
  return stdout;
}

async function httpStatus(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status;
}

interface State {
  readonly cookiePassword: string;
}

function nodeEnv(c: DemoConfig, i: number, state: State): Record<string, string> {
  return {
    HOLDFAST_ENV: 'production',
    HOLDFAST_COOKIE__PASSWORD: state.cookiePassword,
    HOLDFAST_HTTP__HOST: HOST,
    HOLDFAST_HTTP__PORT: String(c.nodePorts[i]),
    HOLDFAST_METRICS__HOST: HOST,
    HOLDFAST_METRICS__PORT: String(c.metricsPorts[i]),
    HOLDFAST_WORKERS: '1',
    // The demo proxy runs on loopback: only it may name the client in X-Forwarded-For.
    HOLDFAST_HTTP__TRUSTED_PROXIES: '127.0.0.1/32',
    HOLDFAST_STORE__TYPE: 'redis',
    HOLDFAST_STORE__STARTUP_WAIT: '60s',
    HOLDFAST_STORE__REDIS__MODE: 'cluster',
    HOLDFAST_STORE__REDIS__NODES: c.redisPorts.map((p) => `${HOST}:${p}`).join(','),
    HOLDFAST_STORE__REDIS__REQUIRE__PERSISTENCE: 'aof',
    HOLDFAST_STORE__REDIS__DURABILITY__REPLICAS: '1',
    HOLDFAST_SHUTDOWN__DRAIN_DELAY: '2s',
    HOLDFAST_SHUTDOWN__TIMEOUT: '10s',
  };
}

function readState(c: DemoConfig): State {
  return JSON.parse(fs.readFileSync(path.join(c.dir, 'state.json'), 'utf8')) as State;
}

async function startNode(c: DemoConfig, i: number, state: State): Promise<void> {
  launch(
    c,
    `holdfast-${i + 1}`,
    process.execPath,
    [path.join(ROOT, 'dist/cli/main.js'), 'start'],
    nodeEnv(c, i, state),
  );
  await waitFor(
    `holdfast-${i + 1} ready`,
    async () => (await httpStatus(`http://${HOST}:${c.nodePorts[i]}/health/ready`)) === 200,
    90_000,
  );
}

export async function up(c: DemoConfig): Promise<void> {
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
    throw new Error('demo: dist/cli/main.js is missing: run `make build` (make demo does)');
  }
  if (fs.existsSync(path.join(c.dir, 'pids')) && fs.readdirSync(path.join(c.dir, 'pids')).length) {
    throw new Error(`demo: already running from ${c.dir}: run \`make demo-down\` first`);
  }
  fs.rmSync(c.dir, { recursive: true, force: true });
  for (const d of ['pids', 'logs', 'redis', 'prometheus'])
    fs.mkdirSync(path.join(c.dir, d), { recursive: true });
  const state: State = { cookiePassword: randomBytes(36).toString('base64') };
  fs.writeFileSync(path.join(c.dir, 'state.json'), JSON.stringify(state), { mode: 0o600 });

  c.redisPorts.forEach((port, i) => {
    const data = path.join(c.dir, 'redis', String(port));
    fs.mkdirSync(data);
    launch(c, `redis-${i + 1}`, 'redis-server', [
      '--bind',
      HOST,
      '--port',
      String(port),
      '--dir',
      data,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      '2000',
      // Other masters and replicas keep answering while a master fails over (docs/reliability.md).
      '--cluster-require-full-coverage',
      'no',
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--repl-diskless-sync',
      'yes',
      '--repl-diskless-sync-delay',
      '0',
      '--save',
      '',
    ]);
  });
  for (const port of c.redisPorts) {
    await waitFor(
      `redis ${port} answers`,
      async () => (await redisCli(port, 'ping')).trim() === 'PONG',
      10_000,
    );
  }
  await execFileP(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...c.redisPorts.map((p) => `${HOST}:${p}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ],
    { timeout: 30_000 },
  );
  await waitFor(
    'cluster_state:ok',
    async () => /cluster_state:ok/.test(await redisCli(c.redisPorts[0], 'cluster', 'info')),
    30_000,
  );

  await Promise.all(c.nodePorts.map((_p, i) => startNode(c, i, state)));
  launch(c, 'proxy', process.execPath, [
    ...TS_NODE,
    path.join(__dirname, 'proxy.ts'),
    String(c.proxyPort),
    ...c.nodePorts.map(String),
  ]);
  await waitFor(
    'the proxy answers',
    async () => (await httpStatus(`http://${HOST}:${c.proxyPort}/health/ready`)) === 200,
    30_000,
  );

  const prometheusYml = {
    global: { scrape_interval: '5s', evaluation_interval: '5s' },
    rule_files: [path.join(ROOT, 'deploy/prometheus/holdfast.rules.yml')],
    scrape_configs: [
      {
        job_name: 'holdfast',
        static_configs: [{ targets: c.metricsPorts.map((p) => `${HOST}:${p}`) }],
      },
    ],
  };
  const promConfig = path.join(c.dir, 'prometheus.yml');
  fs.writeFileSync(promConfig, JSON.stringify(prometheusYml, null, 2)); // JSON is YAML
  launch(c, 'prometheus', 'prometheus', [
    `--config.file=${promConfig}`,
    `--storage.tsdb.path=${path.join(c.dir, 'prometheus')}`,
    `--web.listen-address=${HOST}:${c.prometheusPort}`,
  ]);
  await waitFor(
    'Prometheus ready',
    async () => (await httpStatus(`http://${HOST}:${c.prometheusPort}/-/ready`)) === 200,
    30_000,
  );

  console.log(`Holdfast demo is up (${c.dir}):
  site (proxy, ready nodes only)  http://${HOST}:${c.proxyPort}/
  Holdfast nodes                  ${c.nodePorts.map((p) => `http://${HOST}:${p}/health/ready`).join('  ')}
  Prometheus                      http://${HOST}:${c.prometheusPort}/   (try holdfast:sessions_active:max)
  Redis Cluster                   ${c.redisPorts.map((p) => `${HOST}:${p}`).join(' ')}
stop it with: make demo-down`);
}

/** SIGTERM to every PID the demo started, then SIGKILL for any still alive after 15 s. */
export async function down(c: DemoConfig): Promise<void> {
  const dir = path.join(c.dir, 'pids');
  if (!fs.existsSync(dir)) return;
  const pids = fs.readdirSync(dir).map((f) => ({
    file: path.join(dir, f),
    pid: Number(fs.readFileSync(path.join(dir, f), 'utf8')),
  }));
  for (const { pid } of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 15_000;
  while (pids.some((p) => alive(p.pid)) && Date.now() < deadline) await sleep(200);
  for (const { pid } of pids.filter((p) => alive(p.pid))) process.kill(pid, 'SIGKILL');
  for (const { file } of pids) fs.rmSync(file, { force: true });
}

/** A rolling restart of one node, as Kubernetes would: SIGTERM, wait for the exit, start again. */
export async function restart(c: DemoConfig, n: number): Promise<void> {
  const name = `holdfast-${n}`;
  const pid = Number(fs.readFileSync(pidFile(c, name), 'utf8'));
  process.kill(pid, 'SIGTERM');
  await waitFor(`${name} (pid ${pid}) exits`, async () => !alive(pid), 30_000);
  await startNode(c, n - 1, readState(c));
}

async function cli(argv: string[]): Promise<void> {
  const c = configFromEnv();
  const [command, arg] = argv;
  if (command === 'up') {
    try {
      await up(c);
    } catch (err) {
      await down(c);
      throw err;
    }
  } else if (command === 'down') await down(c);
  else if (command === 'restart') await restart(c, Number(arg));
  else throw new Error('usage: demo.ts up | down | restart N');
}

if (require.main === module) {
  cli(process.argv.slice(2)).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
