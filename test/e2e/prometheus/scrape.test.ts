/**
 * A real Prometheus scrapes two Holdfast nodes sharing one Redis while users log in through both:
 * every expression of the overview dashboard returns data, and live sessions read N on both
 * nodes, then N-1 after one logout.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { getProvider, LOOPBACK, notYet, waitUntil, type RedisNode } from '../../harness';
import { PrometheusProcess } from './prometheus-process';

jest.setTimeout(120_000);

const ROOT = path.join(__dirname, '..', '..', '..');
const LOGS = path.join(ROOT, 'test-artifacts', 'logs');
const PASSWORD = 'correct horse battery staple';
const USERS = 4;

interface Node {
  proc: ChildProcess;
  base: string;
  metrics: string;
}

function startNode(redis: RedisNode, prefix: string, index: number): Promise<Node> {
  const proc = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'fixtures', 'metrics-node.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        HOLDFAST_LOG__LEVEL: 'info',
        HOLDFAST_STORE__TYPE: 'redis',
        HOLDFAST_STORE__REDIS__MODE: 'standalone',
        HOLDFAST_STORE__REDIS__NODES: `${redis.host}:${redis.port}`,
        HOLDFAST_STORE__REDIS__KEY_PREFIX: prefix,
        TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // Node output goes where the log scan (scripts/scan-logs.ts) looks.
  const log = fs.createWriteStream(path.join(LOGS, `e2e-prometheus-node-${index}.log`));
  proc.stderr?.pipe(log);
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d) => {
      out += String(d);
      log.write(d);
      const m = /\{"port":(\d+),"metricsPort":(\d+)\}/.exec(out);
      if (m) resolve({ proc, base: `http://${LOOPBACK}:${m[1]}`, metrics: `${LOOPBACK}:${m[2]}` });
    });
    proc.on('exit', (code) => reject(new Error(`holdfast node exited ${code}: ${out}`)));
  });
}

/** Cookie jar of one browser. */
class Client {
  cookies = new Map<string, string>();
  async send(base: string, method: string, route: string, body?: unknown): Promise<number> {
    const headers: Record<string, string> = {};
    if (this.cookies.size) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + route, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      if (pair.slice(i + 1)) this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
      else this.cookies.delete(pair.slice(0, i));
    }
    await res.arrayBuffer();
    return res.status;
  }
}

function overviewExpressions(): Array<{ panel: string; expr: string }> {
  const file = path.join(ROOT, 'grafana', 'dashboards', 'holdfast-overview.json');
  const d = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  };
  // Grafana's $__rate_interval is at least 4 scrape intervals: 1 s scrapes here.
  return d.panels.flatMap((p) =>
    p.targets.map((t) => ({ panel: p.title, expr: t.expr.replace(/\$__rate_interval/g, '15s') })),
  );
}

describe('Prometheus scraping Holdfast nodes', () => {
  let redis: RedisNode;
  let prometheus: PrometheusProcess;
  const nodes: Node[] = [];

  beforeAll(async () => {
    fs.mkdirSync(LOGS, { recursive: true });
    fs.appendFileSync(path.join(LOGS, 'canaries.txt'), `${PASSWORD}\n`);
    redis = await getProvider().standalone();
    const prefix = `e2e${Date.now().toString(36)}`;
    nodes.push(...(await Promise.all([startNode(redis, prefix, 1), startNode(redis, prefix, 2)])));
    prometheus = await PrometheusProcess.start(nodes.map((n) => n.metrics));
  });

  afterAll(async () => {
    await prometheus?.stop();
    for (const n of nodes) {
      if (n.proc.exitCode !== null) continue;
      const exited = new Promise((r) => n.proc.once('exit', r));
      n.proc.kill('SIGTERM');
      await exited;
    }
    await redis?.destroy();
  });

  /** Waits until Prometheus reports `value` for the expression on each of both nodes. */
  async function onBothNodes(expr: string, value: number): Promise<void> {
    await waitUntil(
      `${expr} = ${value} on both nodes`,
      async () => {
        const r = await prometheus.query(expr);
        const values = r.map((s) => Number(s.value[1]));
        return values.length === 2 && values.every((v) => v === value)
          ? true
          : notYet(JSON.stringify(r.map((s) => [s.metric.instance, s.value[1]])));
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }

  it('shows N live sessions on both nodes, N-1 after a logout, and data in every overview panel', async () => {
    await waitUntil(
      'both targets up',
      async () => {
        const up = await prometheus.query('up{job="holdfast"} == 1');
        return up.length === 2 ? true : notYet(`${up.length} targets up`);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    const clients: Client[] = [];
    for (let i = 0; i < USERS; i++) {
      const c = new Client();
      const node = nodes[i % 2].base;
      const email = `prom.${i}.${Date.now()}@example.com`;
      expect(await c.send(node, 'POST', '/auth/register', { email, password: PASSWORD })).toBe(201);
      // A second login of the same user through the other node replaces nothing: log out of the
      // registration session first, so each user holds exactly one session.
      expect(await c.send(node, 'POST', '/auth/logout')).toBe(204);
      expect(
        await c.send(nodes[(i + 1) % 2].base, 'POST', '/auth/login', { email, password: PASSWORD }),
      ).toBe(200);
      expect(await c.send(node, 'GET', '/auth/me')).toBe(200);
      clients.push(c);
    }
    // One failed login, so the failure panels have something besides zeros.
    const stranger = new Client();
    const wrong = { email: 'nobody@example.com', password: 'not the password' };
    expect(await stranger.send(nodes[0].base, 'POST', '/auth/login', wrong)).toBe(401);

    await onBothNodes('holdfast_sessions_active', USERS);
    await onBothNodes('holdfast_users_active', USERS);

    for (const { panel, expr } of overviewExpressions()) {
      await waitUntil(
        `overview panel "${panel}" returns data: ${expr}`,
        async () => {
          const r = await prometheus.query(expr);
          return r.length > 0 ? r : notYet('empty result');
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
    }
    const failed = await prometheus.query('sum(holdfast_logins_failed_total)');
    expect(Number(failed[0].value[1])).toBeGreaterThanOrEqual(1);
    const created = await prometheus.query(
      'sum(holdfast_sessions_created_total{method="password"})',
    );
    expect(Number(created[0].value[1])).toBe(2 * USERS);

    expect(await clients[0].send(nodes[1].base, 'POST', '/auth/logout')).toBe(204);
    await onBothNodes('holdfast_sessions_active', USERS - 1);
    await onBothNodes('holdfast_users_active', USERS - 1);
    const deployment = await prometheus.query('max(holdfast_sessions_active)');
    expect(Number(deployment[0].value[1])).toBe(USERS - 1);
  });
});
