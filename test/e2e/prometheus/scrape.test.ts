/**
 * A real Prometheus scrapes two real Holdfast nodes sharing one Redis Cluster while users register
 * and log in through both. Each node is `holdfast start` as an operator runs it: preflight in the
 * primary, then workers forked (node:cluster), and the primary answering /metrics on its own port
 * with the aggregate of its workers. Node 1 runs two workers, so the scrape is an aggregation over
 * node:cluster; node 2 runs one. Every expression of the overview dashboard returns data, and live
 * sessions read N on both nodes' series, then N-1 after one logout.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  freePorts,
  getProvider,
  LOOPBACK,
  notYet,
  waitUntil,
  type RedisClusterHandle,
} from '../../harness';
import {
  canary,
  childrenOf,
  cookiesOf,
  HoldfastProcess,
  request,
  ROOT,
  spawnHoldfast,
  waitReady,
} from '../process/helpers';
import { PrometheusProcess } from './prometheus-process';

jest.setTimeout(120_000);

const PASSWORD = 'correct horse battery staple';
const USERS = 4;

interface Node {
  readonly name: string;
  readonly proc: HoldfastProcess;
  readonly httpPort: number;
  /** host:port of the primary's metrics listener: the Prometheus target (its `instance` label). */
  readonly target: string;
  readonly workers: number;
  /** The node's own origin, sent as Origin on every request (src/plugin/csrf.ts). */
  readonly origin: string;
}

/**
 * Settings through HOLDFAST_* only. Env `test` with store.type redis rather than production:
 * - production only accepts cookie.secure true (the schema refuses false), and with Secure cookies
 *   the CSRF check refuses an `http://` Origin unless every node's origin is listed in
 *   csrf.origins, while these nodes serve plain HTTP on 127.0.0.1;
 * - production's preflight requires a replica per master (store.redis.require.replicasPerMaster
 *   1), i.e. a twice-as-large cluster, or more overrides;
 * - production hashes passwords at scrypt N=2^17 (128 MiB, hundreds of ms per hash on 2 cores).
 * Env `test` runs the same `holdfast start`: every preflight check against the real cluster,
 * forked workers, the Redis store, the primary's metrics listener, with the test defaults (no
 * replicas or persistence required, cookie.secure false, scrypt N=2^12). It turns metrics and
 * logs off by default, so both are switched on here.
 */
function nodeEnv(
  cluster: RedisClusterHandle,
  shared: { prefix: string; cookiePassword: string },
  ports: { http: number; metrics: number },
  workers: number,
): NodeJS.ProcessEnv {
  return {
    HOLDFAST_ENV: 'test',
    HOLDFAST_COOKIE__PASSWORD: shared.cookiePassword,
    HOLDFAST_HTTP__HOST: LOOPBACK,
    HOLDFAST_HTTP__PORT: String(ports.http),
    HOLDFAST_METRICS__ENABLED: 'true',
    HOLDFAST_METRICS__HOST: LOOPBACK,
    HOLDFAST_METRICS__PORT: String(ports.metrics),
    HOLDFAST_WORKERS: String(workers),
    HOLDFAST_LOG__LEVEL: 'info',
    HOLDFAST_STORE__TYPE: 'redis',
    HOLDFAST_STORE__REDIS__MODE: 'cluster',
    HOLDFAST_STORE__REDIS__NODES: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(','),
    HOLDFAST_STORE__REDIS__KEY_PREFIX: shared.prefix,
    HOLDFAST_SHUTDOWN__DRAIN_DELAY: '100ms',
    HOLDFAST_SHUTDOWN__TIMEOUT: '5s',
  };
}

/** `holdfast start`, its output in test-artifacts/logs/e2e-prometheus-<name>.log. */
function startNode(name: string, env: NodeJS.ProcessEnv): Node {
  const httpPort = Number(env.HOLDFAST_HTTP__PORT);
  return {
    name,
    proc: spawnHoldfast(['start'], env, name, [], 'prometheus'),
    httpPort,
    target: `${LOOPBACK}:${env.HOLDFAST_METRICS__PORT}`,
    workers: Number(env.HOLDFAST_WORKERS),
    origin: `http://${LOOPBACK}:${httpPort}`,
  };
}

/** Ready for traffic, or the node's output when it exited instead (e.g. a failed preflight). */
async function ready(node: Node): Promise<void> {
  const outcome = await Promise.race([
    waitReady(node.httpPort).then(() => 'ready'),
    node.proc.exited.then(({ code, signal }) => `exited (code ${code}, signal ${signal})`),
  ]);
  if (outcome !== 'ready') {
    throw new Error(`holdfast start ${node.name} ${outcome}:\n${node.proc.output()}`);
  }
}

/** SIGTERM (graceful drain), SIGKILL if the node has not stopped within 20 s. */
async function stopNode(node: Node): Promise<void> {
  node.proc.child.kill('SIGTERM');
  const guard = setTimeout(() => node.proc.kill(), 20_000);
  await node.proc.exited;
  clearTimeout(guard);
}

/** A JSON API call on `node`, as a browser on that node's page sends it. */
function api(node: Node, method: string, route: string, opts: { body?: unknown; cookie?: string }) {
  return request(node.httpPort, route, { method, ...opts, headers: { origin: node.origin } });
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

describe('Prometheus scraping two `holdfast start` nodes', () => {
  let cluster: RedisClusterHandle;
  let prometheus: PrometheusProcess;
  const nodes: Node[] = [];

  beforeAll(async () => {
    canary(PASSWORD);
    cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 0 });
    const shared = {
      prefix: `e2e${randomBytes(3).toString('hex')}`,
      // One secret for the whole deployment, as every node of a real one shares it.
      cookiePassword: randomBytes(30).toString('base64'),
    };
    canary(shared.cookiePassword);
    const [http1, metrics1, http2, metrics2] = await freePorts(4);
    nodes.push(
      startNode('node-1', nodeEnv(cluster, shared, { http: http1, metrics: metrics1 }, 2)),
      startNode('node-2', nodeEnv(cluster, shared, { http: http2, metrics: metrics2 }, 1)),
    );
    await Promise.all(nodes.map(ready));
    prometheus = await PrometheusProcess.start(nodes.map((n) => n.target));
  });

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(nodes.map(stopNode));
    await cluster?.stop();
  });

  /** Waits until Prometheus has exactly one series per node for `expr`, each equal to `value(node)`. */
  async function perNode(expr: string, value: (node: Node) => number): Promise<void> {
    await waitUntil(
      `${expr} per node = ${nodes.map((n) => `${n.name}: ${value(n)}`).join(', ')}`,
      async () => {
        const r = await prometheus.query(expr);
        const seen = new Map(r.map((s) => [s.metric.instance, Number(s.value[1])]));
        return r.length === nodes.length && nodes.every((n) => seen.get(n.target) === value(n))
          ? true
          : notYet(JSON.stringify(r.map((s) => [s.metric.instance, s.value[1]])));
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }

  it('shows N live sessions on both nodes, N-1 after a logout, and data in every overview panel', async () => {
    // Each node is its own process tree: a primary and its forked workers.
    for (const n of nodes) expect(childrenOf(n.proc.pid)).toHaveLength(n.workers);
    await perNode('up{job="holdfast"}', () => 1);
    // The primary answers the scrape with every worker's metrics folded in.
    await perNode('holdfast_workers', (n) => n.workers);
    await perNode('holdfast_preflight_check_status{check="store.reachable"}', () => 1);

    const cookies: string[] = [];
    for (let i = 0; i < USERS; i++) {
      const [home, other] = [nodes[i % 2], nodes[(i + 1) % 2]];
      const email = `prom.${i}.${Date.now()}@example.com`;
      const credentials = { email, password: PASSWORD };
      const registered = await api(home, 'POST', '/auth/register', { body: credentials });
      expect(registered.status).toBe(201);
      // Log out of the registration session, then log in through the other node: each user
      // holds exactly one session, created on one node and used on the other.
      const out = await api(home, 'POST', '/auth/logout', { cookie: cookiesOf(registered) });
      expect(out.status).toBe(204);
      const login = await api(other, 'POST', '/auth/login', { body: credentials });
      expect(login.status).toBe(200);
      const cookie = cookiesOf(login);
      expect((await api(home, 'GET', '/auth/me', { cookie })).status).toBe(200);
      cookies.push(cookie);
    }
    // One failed login, so the failure panels have something besides zeros.
    const wrong = { email: 'nobody@example.com', password: 'not the password' };
    expect((await api(nodes[0], 'POST', '/auth/login', { body: wrong })).status).toBe(401);

    await perNode('holdfast_sessions_active', () => USERS);
    await perNode('holdfast_users_active', () => USERS);

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
    // Counters are summed over each node's workers, then over the nodes: register + login each.
    await waitUntil(
      'every login counted',
      async () => {
        const created = await prometheus.query(
          'sum(holdfast_sessions_created_total{method="password"})',
        );
        const failed = await prometheus.query('sum(holdfast_logins_failed_total)');
        const seen = [created[0]?.value[1], failed[0]?.value[1]].map(Number);
        return seen[0] === 2 * USERS && seen[1] >= 1 ? true : notYet(JSON.stringify(seen));
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    const logout = await api(nodes[1], 'POST', '/auth/logout', { cookie: cookies[0] });
    expect(logout.status).toBe(204);
    await perNode('holdfast_sessions_active', () => USERS - 1);
    await perNode('holdfast_users_active', () => USERS - 1);
    const deployment = await prometheus.query('max(holdfast_sessions_active)');
    expect(Number(deployment[0].value[1])).toBe(USERS - 1);
  });
});
