/**
 * A real Prometheus scrapes two real Holdfast nodes sharing one Redis Cluster while users register
 * and log in through both. Each node is `holdfast start` as an operator runs it: preflight in the
 * primary, then workers forked (node:cluster), and the primary answering /metrics on its own port
 * with the aggregate of its workers. Node 1 runs two workers, so the scrape is an aggregation over
 * node:cluster; node 2 runs one. Every expression of the overview dashboard returns data, and live
 * sessions read N on both nodes' series, then N-1 after one logout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { freePorts, getProvider, notYet, waitUntil, type RedisClusterHandle } from '../../harness';
import { canary, childrenOf, cookiesOf, ROOT } from '../../support/process';
import {
  api,
  type Node,
  nodeEnv,
  ready,
  redisStore,
  sharedSecrets,
  startNode,
  stopNode,
} from './nodes';
import { PrometheusProcess } from './prometheus-process';

jest.setTimeout(120_000);

const PASSWORD = 'correct horse battery staple';
const USERS = 4;

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
    const shared = sharedSecrets();
    const store = redisStore('cluster', cluster.seeds);
    const [http1, metrics1, http2, metrics2] = await freePorts(4);
    nodes.push(
      startNode('node-1', nodeEnv(store, shared, { http: http1, metrics: metrics1 }, 2)),
      startNode('node-2', nodeEnv(store, shared, { http: http2, metrics: metrics2 }, 1)),
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
