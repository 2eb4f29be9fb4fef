/**
 * Issue 12, fault scenario "a node cut off from Redis": three `holdfast start` nodes on one Redis
 * Cluster (3 masters); node A runs in a network namespace the test makes, and iptables DROP inside
 * it cuts A off from every Redis port (packets vanish: the hard kind of partition). Under steady
 * authenticated load on all three: A turns not ready and answers 503 (never 401), B and C answer
 * every request 2xx; once the DROP rules are removed A is ready and serving again without a
 * restart. Needs root, iproute2 and iptables; without them it fails, naming what is missing.
 *
 * The load loop here is deliberately small (sequential GET /auth/me per node); the shared load
 * client of test/support/load.ts replaces it at merge.
 */
import http from 'node:http';
import os from 'node:os';
import { freePort, LOOPBACK } from '../../harness';
import { writeResult } from '../../support/fault-report';
import { MovingCluster } from '../../support/moving-cluster';
import { TestNetns } from '../../support/netns';
import { canary, cookiesOf, spawnHoldfast, type HoldfastProcess } from '../../support/process';
import { nodeEnv, redisStore, sharedSecrets } from '../prometheus/nodes';

jest.setTimeout(300_000);

/** How long a request may take before it counts as "no answer" (commandTimeout 500 ms + margin). */
const ANSWER_WITHIN_MS = 3000;
/** After the partition heals, node A must serve again within this (store health pings every 1 s). */
const RECOVERY_BOUND_MS = 15_000;

interface Tally {
  requests: number;
  ok: number;
  unauthorized: number;
  unavailable: number;
  other: number;
  noAnswer: number;
}

interface Target {
  name: string;
  host: string;
  port: number;
  proc?: HoldfastProcess;
}

function get(
  t: Target,
  path: string,
  cookie?: string,
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: t.host, port: t.port, path, agent: false, headers: cookie ? { cookie } : {} },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('error', () => resolve(undefined));
    req.setTimeout(ANSWER_WITHIN_MS, () => req.destroy());
  });
}

/** Sequential authenticated reads on one node until stopped; counts every outcome. */
function loadLoop(t: Target, cookie: string): { tally: Tally; stop(): Promise<Tally> } {
  const tally: Tally = {
    requests: 0,
    ok: 0,
    unauthorized: 0,
    unavailable: 0,
    other: 0,
    noAnswer: 0,
  };
  let running = true;
  const loop = (async () => {
    while (running && tally.requests < 20_000) {
      const r = await get(t, '/auth/me', cookie);
      // Counted when answered (or given up on), so a snapshot never holds a request half-counted.
      tally.requests++;
      if (!r) tally.noAnswer++;
      else if (r.status >= 200 && r.status < 300) tally.ok++;
      else if (r.status === 401) tally.unauthorized++;
      else if (r.status === 503) tally.unavailable++;
      else tally.other++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    tally,
    stop: async () => {
      running = false;
      await loop;
      return { ...tally };
    },
  };
}

function minus(a: Tally, b: Tally): Tally {
  return {
    requests: a.requests - b.requests,
    ok: a.ok - b.ok,
    unauthorized: a.unauthorized - b.unauthorized,
    unavailable: a.unavailable - b.unavailable,
    other: a.other - b.other,
    noAnswer: a.noAnswer - b.noAnswer,
  };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) {
  const started = Date.now();
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return { value: v, ms: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let ns: TestNetns | undefined;
let cluster: MovingCluster | undefined;
const nodes: Target[] = [];
const loops: Array<ReturnType<typeof loadLoop>> = [];

afterAll(async () => {
  // Every step runs even if an earlier one fails; the namespace goes last but always.
  await Promise.all(loops.map((l) => l.stop()));
  // SIGTERM (the node's own shutdown also stops its workers), SIGKILL after 10 s.
  await Promise.all(
    nodes.map(async (n) => {
      if (!n.proc || n.proc.child.exitCode !== null) return;
      n.proc.child.kill('SIGTERM');
      const guard = setTimeout(() => n.proc?.kill(), 10_000);
      await n.proc.exited;
      clearTimeout(guard);
    }),
  );
  await cluster?.stop().catch(() => undefined);
  await ns?.destroy();
});

test('a node cut off from Redis: not ready and 503 there, the others unaffected, back without a restart', async () => {
  ns = await TestNetns.create();
  const net = ns;
  // Redis listens on the host end of the veth: reachable from the namespace and from the host.
  cluster = await MovingCluster.start([net.hostIp, net.hostIp, net.hostIp], { ownPorts: true });
  const redisPorts = cluster.nodes.map((n) => n.port);
  const shared = sharedSecrets();
  const store = {
    ...redisStore('cluster', cluster.seeds),
    HOLDFAST_STORE__REDIS__COMMAND_TIMEOUT: '500ms',
    HOLDFAST_STORE__REDIS__CONNECT_TIMEOUT: '1s',
  };
  for (const [name, host, wrapper] of [
    ['a', net.nsIp, net.exec],
    ['b', LOOPBACK, []],
    ['c', LOOPBACK, []],
  ] as const) {
    const port = await freePort();
    const env = nodeEnv(store, shared, { http: port, metrics: await freePort() }, 1, {
      HOLDFAST_HTTP__HOST: host,
      HOLDFAST_METRICS__HOST: host,
    });
    const t: Target = { name, host, port };
    t.proc = spawnHoldfast(['start'], env, `partition-${name}`, [...wrapper], 'faults');
    nodes.push(t);
  }
  const [a, b, c] = nodes;
  // Started together; on 2 busy cores a worker compiling the sources can take a minute.
  await Promise.all(
    nodes.map((t) =>
      until(`node ${t.name} ready`, 150_000, async () =>
        (await get(t, '/health/ready'))?.status === 200 ? true : undefined,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${t.proc?.output().slice(-3000) ?? ''}`);
      }),
    ),
  );

  // One user, one session, read through every node (they share the store).
  const password = 'partition keeps me signed in 7';
  canary(password);
  const reg = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
    const body = JSON.stringify({ email: `user.${Date.now()}@example.com`, password });
    const req = http.request(
      {
        host: b.host,
        port: b.port,
        path: '/auth/register',
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          origin: `http://${b.host}:${b.port}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            cookie: cookiesOf({ status: 0, headers: res.headers, body: '' }),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  expect(reg.status).toBe(201);
  for (const t of nodes) expect((await get(t, '/auth/me', reg.cookie))?.status).toBe(200);

  loops.push(...nodes.map((t) => loadLoop(t, reg.cookie)));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const atCut = loops.map((l) => ({ ...l.tally }));
  const pidA = a.proc?.pid;
  expect((await get(a, '/health/ready'))?.status).toBe(200);
  expect(atCut[0].ok).toBe(atCut[0].requests);

  await net.partition(redisPorts);
  const cut = Date.now();
  const notReady = await until('node a not ready', 15_000, async () => {
    const r = await get(a, '/health/ready');
    return r?.status === 503 ? r : undefined;
  });
  expect(JSON.parse(notReady.value.body)).toMatchObject({ status: 'not ready', store: 'down' });
  // Keep the partition a while under load: A keeps answering (503), B and C keep serving.
  await new Promise((resolve) => setTimeout(resolve, 4000));
  for (const t of [b, c]) expect((await get(t, '/health/ready'))?.status).toBe(200);
  const atHeal = loops.map((l) => ({ ...l.tally }));

  await net.heal();
  const healed = Date.now();
  const recovered = await until('node a serving again', RECOVERY_BOUND_MS, async () => {
    const [ready, me] = await Promise.all([
      get(a, '/health/ready'),
      get(a, '/auth/me', reg.cookie),
    ]);
    return ready?.status === 200 && me?.status === 200 ? true : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const totals = await Promise.all(loops.map((l) => l.stop()));

  const during = atHeal.map((t, i) => minus(t, atCut[i]));
  const after = totals.map((t, i) => minus(t, atHeal[i]));
  const figures = {
    partitionSeconds: (healed - cut) / 1000,
    secondsToNotReady: notReady.ms / 1000,
    secondsToRecovery: recovered.ms / 1000,
    total: Object.fromEntries(nodes.map((t, i) => [t.name, totals[i]])),
    duringPartition: Object.fromEntries(nodes.map((t, i) => [t.name, during[i]])),
    afterHeal: Object.fromEntries(nodes.map((t, i) => [t.name, after[i]])),
  };
  console.log(`partition figures: ${JSON.stringify(figures)}`);
  // The row `make reliability` puts under the fault table (scripts/fault-table.ts).
  const sum = (pick: (t: Tally) => number, of = totals) => of.reduce((n, t) => n + pick(t), 0);
  writeResult({
    kind: 'partition',
    scenario: 'partition',
    title: 'h. a node cut off from Redis (iptables DROP in its netns), then healed',
    partitionSeconds: figures.partitionSeconds,
    requests: sum((t) => t.requests),
    ok2xx: sum((t) => t.ok),
    unauthorized: sum((t) => t.unauthorized),
    unavailableCut: totals[0].unavailable,
    unavailableOthers: sum((t) => t.unavailable, totals.slice(1)),
    other: sum((t) => t.other),
    noAnswer: sum((t) => t.noAnswer),
    secondsToNotReady: figures.secondsToNotReady,
    secondsToServe: figures.secondsToRecovery,
    reproduce: 'npx jest test/e2e/faults/partition.test.ts',
    ranAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    loadAverage: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  });

  // Never a 401, on any node, at any time: a partition is not a logout.
  for (const t of totals) expect(t.unauthorized).toBe(0);
  for (const t of totals) expect(t.other).toBe(0);
  // A: 503s while cut off, every request answered in time.
  expect(during[0].unavailable).toBeGreaterThan(0);
  expect(totals[0].noAnswer).toBe(0);
  // B and C: unaffected.
  for (const i of [1, 2]) {
    expect(totals[i].ok).toBe(totals[i].requests);
    expect(totals[i].requests).toBeGreaterThan(50);
  }
  // A serves again, without a restart: the same process, all requests after recovery 2xx.
  expect(after[0].ok).toBeGreaterThan(0);
  expect(a.proc?.pid).toBe(pidA);
  expect(a.proc?.child.exitCode).toBeNull();
  expect(recovered.ms).toBeLessThan(RECOVERY_BOUND_MS);
});
