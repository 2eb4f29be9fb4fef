/**
 * Every alert of deploy/prometheus/holdfast.rules.yml that Holdfast's own series or `up` can show
 * fires in a real Prometheus when its condition is made real: real `holdfast start` nodes, real
 * redis-server processes, loopback only. The rules are the file's own text with only `for:`
 * shortened (fast-rules.ts); Prometheus evaluates every second. All conditions run at once:
 *
 *   node       store                                   condition made                alert
 *   store-down standalone Redis                        Redis stopped                 HoldfastStoreUnreachable
 *   cluster    3-master Redis Cluster                  slot 16383 deleted everywhere HoldfastStoreClusterNotOk
 *   traffic    master + replica, 1 replica required    replica killed                HoldfastStoreReplicasMissing
 *                                                      (store.driftInterval 1s)      HoldfastStoreDrift
 *                                                      111 sessions, then revoked    HoldfastMassLogout
 *                                                      200 failed logins             HoldfastFailedLoginSpike
 *   preflight  standalone Redis, 1 replica required    exits 78 before it listens    HoldfastNodeDown
 *
 * One Prometheus scrapes all four nodes: every alert above fires, and HoldfastNoNodeReady does not
 * (two nodes stay ready). Two more Prometheus processes see deployments where no node is ready:
 * one scrapes only `store-down` (scraped, not ready once its Redis stops), one only `preflight`
 * (never scraped at all: the case a sum over holdfast_ready could not see). HoldfastPreflightFailing
 * reads kube-state-metrics only; it is covered by promtool tests (holdfast.rules.test.yml).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  freePorts,
  getProvider,
  notYet,
  waitUntil,
  type RedisClusterHandle,
  type RedisNode,
} from '../../harness';
import { canary, cookiesOf, spawnHoldfast } from '../../support/process';
import { FAST_FOR, fastRulesText, RULES, withoutFor, writeFastRules } from './fast-rules';
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
import { PrometheusProcess, type PromAlert } from './prometheus-process';

jest.setTimeout(180_000);

const PASSWORD = 'correct horse battery staple';
/** Sessions of one user before the mass revocation: above the rule's floor of 100. */
const SESSIONS = 111;
/** Failed logins in the burst: over 20 a minute on a 5-minute rate needs more than 100. */
const FAILURES = 200;
const FIRE_TIMEOUT_MS = 60_000;

type Name = 'storeDown' | 'cluster' | 'traffic' | 'preflight';

describe('alerts fire in a real Prometheus on real conditions', () => {
  const redis: RedisNode[] = [];
  let cluster: RedisClusterHandle;
  const nodes = {} as Record<Name, Node>;
  let main: PrometheusProcess;
  let noneReady: PrometheusProcess;
  let noneScraped: PrometheusProcess;
  const rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-rules-'));
  /** When each condition was made, to report how long its alert took to fire. */
  const madeAt = new Map<string, number>();
  let baseline: { main: PromAlert[]; noneReady: PromAlert[] };
  let storeDownRedis: RedisNode;
  let replica: RedisNode;
  /** Milliseconds from each condition being made to its alert firing. */
  const fired = new Map<string, number>();

  const t0 = Date.now();
  const phases: string[] = [];
  const phase = (what: string) => phases.push(`${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);

  beforeAll(async () => {
    canary(PASSWORD);
    const provider = getProvider();
    const [started, c] = await Promise.all([
      Promise.all([1, 2, 3].map(() => provider.standalone())),
      provider.cluster({ masters: 3, replicasPerMaster: 0 }),
    ]);
    redis.push(...started);
    cluster = c;
    const [sRedis, rMaster] = started;
    storeDownRedis = sRedis;
    replica = started[2];
    await replica.command(['REPLICAOF', rMaster.host, rMaster.port]);
    await waitUntil(
      'replica online at its master',
      async () => {
        const info = await rMaster.info('replication');
        return /state=online/.test(info.slave0 ?? '') ? true : notYet(JSON.stringify(info));
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );

    phase('redis up');
    const ports = await freePorts(8);
    const at = (i: number) => ({ http: ports[2 * i], metrics: ports[2 * i + 1] });
    const oneReplica = { HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER: '1' };
    const standalone = (n: RedisNode) => redisStore('standalone', [n]);
    nodes.storeDown = startNode(
      'store-down',
      nodeEnv(standalone(sRedis), sharedSecrets(), at(0), 1),
    );
    nodes.cluster = startNode(
      'cluster',
      nodeEnv(redisStore('cluster', cluster.seeds), sharedSecrets(), at(1), 1),
    );
    nodes.traffic = startNode(
      'traffic',
      nodeEnv(standalone(rMaster), sharedSecrets(), at(2), 1, {
        ...oneReplica,
        HOLDFAST_SESSION__MAX_PER_USER: String(SESSIONS + 10),
        HOLDFAST_STORE__DRIFT_INTERVAL: '1s',
      }),
    );
    // Asks for a replica its standalone Redis does not have: preflight fails, exit 78.
    nodes.preflight = startNode(
      'preflight',
      nodeEnv(standalone(sRedis), sharedSecrets(), at(3), 1, oneReplica),
    );
    const { code } = await nodes.preflight.proc.exited;
    expect({ code, output: nodes.preflight.proc.output() }).toEqual({
      code: 78,
      output: expect.stringMatching(/FAIL store\.replicas/),
    });
    await Promise.all([nodes.storeDown, nodes.cluster, nodes.traffic].map(ready));

    phase('nodes ready');
    const rules = writeFastRules(rulesDir);
    const all = Object.values(nodes).map((n) => n.target);
    [main, noneReady, noneScraped] = await Promise.all([
      PrometheusProcess.start(all, [rules]),
      PrometheusProcess.start([nodes.storeDown.target], [rules]),
      PrometheusProcess.start([nodes.preflight.target], [rules]),
    ]);
    phase('prometheus ready');
    madeAt.set('HoldfastNodeDown', Date.now());
    madeAt.set('HoldfastNoNodeReady/none-scraped', Date.now());
    for (const p of [main, noneReady, noneScraped]) expect(await p.ruleErrors()).toEqual([]);

    // One failed login before the burst, so the counter's series exists and the burst is a rise.
    const wrong = { email: 'nobody.0@example.com', password: 'not the password' };
    expect((await api(nodes.traffic, 'POST', '/auth/login', { body: wrong })).status).toBe(401);
    await waitUntil(
      'the failed-login counter scraped',
      async () =>
        (await main.query('holdfast_logins_failed_total')).length > 0 ? true : notYet(''),
      { timeoutMs: 20_000, intervalMs: 250 },
    );

    const userId = await manySessions();
    phase('sessions seen');

    // Baseline: once the first alert has fired (the rules are evaluated), nothing else fires.
    await firing(main, 'HoldfastNodeDown', { instance: nodes.preflight.target });
    baseline = { main: await main.alerts(), noneReady: await noneReady.alerts() };
    phase('baseline');

    // Every condition at once.
    await Promise.all([
      (async () => {
        madeAt.set('HoldfastStoreUnreachable', Date.now());
        madeAt.set('HoldfastNoNodeReady/not-ready', Date.now());
        await storeDownRedis.stop();
      })(),
      (async () => {
        madeAt.set('HoldfastStoreReplicasMissing', Date.now());
        madeAt.set('HoldfastStoreDrift', Date.now());
        await replica.kill9();
      })(),
      deleteSlotEverywhere(cluster, 16383).then(() =>
        madeAt.set('HoldfastStoreClusterNotOk', Date.now()),
      ),
      revokeAll(userId),
      failedLoginBurst(),
    ]);
    phase('conditions made');
  });

  afterAll(async () => {
    await Promise.all([main, noneReady, noneScraped].map((p) => p?.stop()));
    await Promise.all(Object.values(nodes).map(stopNode));
    await Promise.all(redis.map((r) => r.destroy()));
    await cluster?.stop();
    fs.rmSync(rulesDir, { recursive: true, force: true });
  });

  /** The cluster answers every PING, but no master serves the slot: cluster_state:fail. */
  async function deleteSlotEverywhere(c: RedisClusterHandle, slot: number): Promise<void> {
    // The owner first: a node that still claims the slot would teach it back to the others.
    const owner = (await c.masters()).find((m) => m.slots.some(([a, b]) => a <= slot && slot <= b));
    const order = [owner!.node!, ...c.nodes.filter((n) => n.port !== owner!.port)];
    for (const n of order) await n.command(['CLUSTER', 'DELSLOTS', slot]);
    await waitUntil(
      'cluster_state:fail on every node',
      async () => {
        const states = await Promise.all(
          c.nodes.map(
            async (n) =>
              /cluster_state:(\w+)/.exec(String(await n.command(['CLUSTER', 'INFO'])))?.[1],
          ),
        );
        return states.every((s) => s === 'fail') ? true : notYet(states.join(','));
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
  }

  /** One user signs in SESSIONS times, and Prometheus sees them; returns the user's id. */
  async function manySessions(): Promise<string> {
    const t = nodes.traffic;
    const credentials = { email: `mass.${Date.now()}@example.com`, password: PASSWORD };
    const registered = await api(t, 'POST', '/auth/register', { body: credentials });
    expect(registered.status).toBe(201);
    const me = await api(t, 'GET', '/auth/me', { cookie: cookiesOf(registered) });
    const userId = (JSON.parse(me.body) as { user: { id: string } }).user.id;
    for (let i = 1; i < SESSIONS; i++) {
      expect((await api(t, 'POST', '/auth/login', { body: credentials })).status).toBe(200);
    }
    await waitUntil(
      `${SESSIONS} live sessions in Prometheus`,
      async () => {
        const r = await main.query('holdfast:sessions_active:max');
        return Number(r[0]?.value[1]) === SESSIONS ? true : notYet(JSON.stringify(r));
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    return userId;
  }

  /** `holdfast sessions revoke --user ID`, as an operator runs it, on the node's own settings. */
  async function revokeAll(userId: string): Promise<void> {
    madeAt.set('HoldfastMassLogout', Date.now());
    const cli = spawnHoldfast(
      ['sessions', 'revoke', '--user', userId],
      nodes.traffic.env,
      'revoke',
      [],
      'prometheus',
    );
    const { code } = await cli.exited;
    expect({ code, revoked: cli.stdoutLines().at(-1) }).toEqual({
      code: 0,
      revoked: String(SESSIONS),
    });
  }

  async function failedLoginBurst(): Promise<void> {
    madeAt.set('HoldfastFailedLoginSpike', Date.now());
    for (let i = 1; i <= FAILURES; i++) {
      const wrong = { email: `nobody.${i}@example.com`, password: 'not the password' };
      // Past throttle.addressFailures the address is throttled (429): still a failed login.
      const { status } = await api(nodes.traffic, 'POST', '/auth/login', { body: wrong });
      expect([401, 429]).toContain(status);
    }
  }

  it('fire nothing before the conditions but the down node (baseline)', () => {
    const names = (alerts: PromAlert[]) =>
      alerts.map((a) => `${a.labels.alertname}${a.labels.instance ? ` ${a.labels.instance}` : ''}`);
    expect(names(baseline.main)).toEqual([`HoldfastNodeDown ${nodes.preflight.target}`]);
    expect(names(baseline.noneReady)).toEqual([]);
  });

  it('HoldfastNodeDown: a node that failed preflight never serves metrics; its target is down', async () => {
    const a = await firing(main, 'HoldfastNodeDown', { instance: nodes.preflight.target });
    expect(a.labels).toMatchObject({ job: 'holdfast', severity: 'warning' });
    expect(a.annotations.summary).toContain(nodes.preflight.target);
  });

  it('HoldfastStoreUnreachable: the node whose Redis stopped', async () => {
    const a = await firing(main, 'HoldfastStoreUnreachable', { instance: nodes.storeDown.target });
    expect(a.annotations.summary).toBe(
      `Holdfast node ${nodes.storeDown.target} cannot reach the session store`,
    );
    // Only that node: the other stores answer.
    const others = (await main.alerts()).filter(
      (x) => x.labels.alertname === 'HoldfastStoreUnreachable',
    );
    expect(others.map((x) => x.labels.instance)).toEqual([nodes.storeDown.target]);
  });

  it('HoldfastStoreClusterNotOk: slots uncovered while every master answers', async () => {
    const a = await firing(main, 'HoldfastStoreClusterNotOk', { instance: nodes.cluster.target });
    expect(a.labels.severity).toBe('critical');
    expect(
      Number(
        (await main.query(`holdfast_store_up{instance="${nodes.cluster.target}"}`))[0].value[1],
      ),
    ).toBe(1);
  });

  it('HoldfastStoreReplicasMissing: the required replica was killed', async () => {
    const a = await firing(main, 'HoldfastStoreReplicasMissing', {});
    expect(a.annotations.summary).toBe('1 session store replica(s) missing');
  });

  it('HoldfastStoreDrift: the replica the node started with is gone (store.replicas)', async () => {
    const a = await firing(main, 'HoldfastStoreDrift', {
      instance: nodes.traffic.target,
      check: 'store.replicas',
    });
    expect(a.labels.severity).toBe('warning');
    expect(nodes.traffic.proc.output()).toMatch(
      /"msg":"store configuration changed since start: FAIL store\.replicas +found 127\.0\.0\.1:\d+ has 0 online replicas;/,
    );
  });

  it('HoldfastMassLogout: every session of a 111-session deployment revoked', async () => {
    const a = await firing(main, 'HoldfastMassLogout', {});
    expect(a.annotations.summary).toBe(
      'Live sessions dropped to 0 (more than 30% within 10 minutes)',
    );
  });

  it('HoldfastFailedLoginSpike: 200 failed logins against a quiet baseline', async () => {
    const a = await firing(main, 'HoldfastFailedLoginSpike', {});
    expect(a.labels.severity).toBe('warning');
    expect(Number(a.value)).toBeGreaterThan(20);
  });

  it('HoldfastNoNodeReady: every scraped node not ready (its store stopped)', async () => {
    await firing(noneReady, 'HoldfastNoNodeReady', {}, 'HoldfastNoNodeReady/not-ready');
  });

  it('HoldfastNoNodeReady: no node ever scraped (the only node failed preflight)', async () => {
    await firing(noneScraped, 'HoldfastNoNodeReady', {}, 'HoldfastNoNodeReady/none-scraped');
  });

  it('HoldfastNoNodeReady stays quiet while some node is ready', async () => {
    // By now the store-down node has been not ready for longer than `for`.
    await firing(main, 'HoldfastStoreUnreachable', { instance: nodes.storeDown.target });
    const names = (await main.alerts()).map((a) => a.labels.alertname);
    expect(names).not.toContain('HoldfastNoNodeReady');
  });

  it('the rules Prometheus ran differ from deploy/prometheus only in `for:`', () => {
    const source = fs.readFileSync(RULES, 'utf8');
    expect(withoutFor(fastRulesText(source))).toEqual(withoutFor(source));
    expect(fastRulesText(source)).not.toEqual(source);
  });

  /**
   * Waits until `alert` is firing with `labels` in `prom` and returns it; records how long it took
   * from its condition being made (measured for docs/operations.md).
   */
  async function firing(
    prom: PrometheusProcess,
    alert: string,
    labels: Record<string, string>,
    key = alert,
  ): Promise<PromAlert> {
    const found = await waitUntil(
      `${alert} ${JSON.stringify(labels)} firing`,
      async () => {
        const alerts = await prom.alerts();
        const a = alerts.find(
          (x) =>
            x.labels.alertname === alert &&
            x.state === 'firing' &&
            Object.entries(labels).every(([k, v]) => x.labels[k] === v),
        );
        return a ?? notYet(JSON.stringify(alerts.map((x) => [x.labels.alertname, x.state])));
      },
      { timeoutMs: FIRE_TIMEOUT_MS, intervalMs: 250 },
    );
    // Prometheus's own clock: pending since activeAt, firing `for` (FAST_FOR) later.
    const since = madeAt.get(key);
    const firedAt = Date.parse(found.activeAt) + parseFloat(FAST_FOR) * 1000;
    if (since !== undefined && !fired.has(key)) fired.set(key, firedAt - since);
    return found;
  }

  afterAll(() => {
    // Seconds from each condition being made to its alert firing (reported, not asserted).
    phase('done');
    const lines = [
      ...phases,
      ...[...fired].map(([k, ms]) => `${k}: fired ${(ms / 1000).toFixed(1)} s after its condition`),
    ];
    fs.mkdirSync(path.join(process.cwd(), 'test-artifacts'), { recursive: true });
    fs.writeFileSync(
      path.join(process.cwd(), 'test-artifacts', 'alerts-e2e-timing.txt'),
      `${lines.join('\n')}\n`,
    );
  });
});
