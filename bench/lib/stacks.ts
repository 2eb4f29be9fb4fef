/**
 * What the HTTP benchmarks share (bench/server-overhead.ts, bench/server-variants.ts,
 * bench/side-by-side.ts): a Redis from the test harness, server processes started from the build
 * with their output in a file, sign-in of one session per connection, and autocannon with one
 * instance per connection so each keeps its own cookie in a request built once (a per-request
 * setupRequest would rebuild the request in the load generator, on the cores the servers need).
 * Run lengths, the final stop and the runner too. Loopback only, bounded in time.
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, getProvider, type Endpoint, type RedisNode } from '../../test/harness';

export const ROOT = path.join(__dirname, '..', '..');
export const PASSWORD = 'violet tractor minnow forty-two';

export interface Stack {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  cookies: string[];
}

export function startStack(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
  dir: string,
  nodeArgs: string[] = [],
): Stack {
  const logFile = path.join(dir, `${name}.log`);
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { name, port, child, logFile, exited, cookies: [] };
}

export function logTail(stack: Stack, lines = 20): string {
  return fs.readFileSync(stack.logFile, 'utf8').split('\n').slice(-lines).join('\n');
}

/** Resolves once `pathname` answers 200; throws with the log's tail if the process exits first. */
export async function waitForHttp(stack: Stack, pathname: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void stack.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`http://127.0.0.1:${stack.port}${pathname}`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${stack.name} did not answer ${pathname} (exited: ${exited}):\n${logTail(stack)}`,
  );
}

/** Resolves once the stack printed `listening `; throws with its log if it exits first. */
export async function waitForListening(stack: Stack, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void stack.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (fs.readFileSync(stack.logFile, 'utf8').includes('listening ')) return;
    if (exited) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${stack.name} did not start (exited: ${exited}):\n${logTail(stack)}`);
}

/** POSTs JSON and returns the session cookie the answer sets (`name=value`). */
export async function signIn(stack: Stack, route: string, body: object): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${stack.port}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200 && res.status !== 201)
    throw new Error(`${stack.name} ${route} answered ${res.status}: ${text}`);
  const session = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .find((c) => !c.includes('remember'));
  if (!session) throw new Error(`${stack.name} ${route} set no session cookie`);
  return session;
}

/**
 * `count` sessions, a few at a time: a Holdfast registration hashes a password, and a process
 * hashes two at once and queues a few dozen (password.maxConcurrentHashes, maxQueuedHashes).
 */
export async function signInAll(
  stack: Stack,
  route: string,
  count: number,
  body: (n: number) => object,
): Promise<void> {
  for (let i = 0; i < count; i += 4) {
    const batch = Array.from({ length: Math.min(4, count - i) }, (_, k) => i + k);
    stack.cookies.push(...(await Promise.all(batch.map((n) => signIn(stack, route, body(n))))));
  }
}

/** Every cookie of the stack is a live session on `pathname`; returns the first answer's body. */
export async function checkSessions(stack: Stack, pathname: string): Promise<string> {
  let first = '';
  for (const cookie of stack.cookies) {
    const res = await fetch(`http://127.0.0.1:${stack.port}${pathname}`, { headers: { cookie } });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${stack.name} ${pathname} answered ${res.status}`);
    first ||= body;
  }
  return first;
}

/** CPU seconds (user + system) used so far by a process and its children still running. */
export function cpuSeconds(pid: number): number {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    try {
      const stat = fs.readFileSync(`/proc/${pids[i]}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / tick; // utime, stime
      const children = fs.readFileSync(`/proc/${pids[i]}/task/${pids[i]}/children`, 'utf8');
      pids.push(...children.split(' ').filter(Boolean).map(Number));
    } catch {
      // gone
    }
  }
  return total;
}

export interface Measured {
  readonly rps: number;
  readonly total: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Median over the connections of each connection's p50 (all see the same distribution). */
  readonly p50Ms: number;
  /** The worst connection's p99. */
  readonly p99Ms: number;
  /** Median over the connections of each connection's p99. */
  readonly p99MedianMs: number;
  /** CPU µs the server's processes spent per answered request. */
  readonly cpuUs: number;
}

/** One autocannon instance per cookie (one connection each), run together for `seconds`. */
export async function cannon(stack: Stack, pathname: string, seconds: number): Promise<Measured> {
  const pid = stack.child.pid as number;
  const cpuBefore = cpuSeconds(pid);
  const results = await Promise.all(
    stack.cookies.map((cookie) =>
      autocannon({
        url: `http://127.0.0.1:${stack.port}${pathname}`,
        connections: 1,
        duration: seconds,
        headers: { cookie },
      }),
    ),
  );
  const total = results.reduce((n, r) => n + r.requests.total, 0);
  const cpu = cpuSeconds(pid) - cpuBefore;
  return {
    cpuUs: (cpu * 1e6) / total,
    rps: total / seconds,
    total,
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    errors: results.reduce((n, r) => n + r.errors + r.timeouts, 0),
    p50Ms: median(results.map((r) => r.latency.p50)),
    p99Ms: Math.max(...results.map((r) => r.latency.p99)),
    p99MedianMs: median(results.map((r) => r.latency.p99)),
  };
}

export interface RedisTarget {
  readonly mode: 'cluster' | 'standalone';
  readonly nodes: Endpoint[];
  readonly replicasPerMaster: number;
  readonly label: string;
  /** The nodes that serve slots now (the one node when standalone): where commands are counted. */
  masters(): Promise<RedisNode[]>;
  stop(): Promise<void>;
}

/** A 3+3 Redis Cluster (AOF on, as the harness starts every node) or one standalone Redis. */
export async function startRedis(kind = 'cluster'): Promise<RedisTarget> {
  if (kind === 'standalone') {
    const node = await getProvider().standalone();
    return {
      mode: 'standalone',
      nodes: [node],
      replicasPerMaster: 0,
      label: 'standalone Redis',
      masters: async () => [node],
      stop: () => node.destroy(),
    };
  }
  if (kind !== 'cluster') throw new Error(`BENCH_REDIS=${kind}: cluster or standalone`);
  const cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 1 });
  return {
    mode: 'cluster',
    nodes: cluster.seeds,
    replicasPerMaster: 1,
    label: 'Redis Cluster 3 masters + 3 replicas, AOF on',
    masters: async () =>
      (await cluster.masters()).map((m) => {
        if (!m.node) throw new Error(`${m.host}:${m.port} is not a harness node`);
        return m.node;
      }),
    stop: () => cluster.stop(),
  };
}

export async function stopStack(stack: Stack): Promise<void> {
  if (stack.child.exitCode !== null || stack.child.signalCode !== null) return;
  stack.child.kill('SIGTERM');
  const timer = setTimeout(() => stack.child.kill('SIGKILL'), 15_000);
  await stack.exited;
  clearTimeout(timer);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Settings every Holdfast stack of one run reads (only the ports differ): production, one
 * worker, the run's Redis and key prefix, and one cookie password, so a session signed in through
 * one stack is a session on every other.
 */
export async function holdfastEnv(redis: RedisTarget): Promise<NodeJS.ProcessEnv> {
  return {
    HOLDFAST_ENV: 'production',
    HOLDFAST_COOKIE__PASSWORD: randomBytes(30).toString('base64'),
    HOLDFAST_HTTP__HOST: '127.0.0.1',
    HOLDFAST_METRICS__HOST: '127.0.0.1',
    HOLDFAST_METRICS__PORT: String(await freePort()),
    HOLDFAST_WORKERS: '1',
    HOLDFAST_STORE__REDIS__MODE: redis.mode,
    HOLDFAST_STORE__REDIS__NODES: redis.nodes.map((n) => `${n.host}:${n.port}`).join(','),
    HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER: String(redis.replicasPerMaster),
    HOLDFAST_STORE__REDIS__KEY_PREFIX: `bench${randomBytes(3).toString('hex')}`,
    HOLDFAST_THROTTLE__REGISTRATIONS: '1000',
    HOLDFAST_SHUTDOWN__DRAIN_DELAY: '0s',
  };
}

/** Rounds, and seconds per stack per round. */
export interface RunLength {
  readonly rounds: number;
  readonly duration: number;
}

/**
 * How long this run is: BENCH_ROUNDS and BENCH_DURATION over the bench's own defaults, the quick
 * ones when BENCH_QUICK is set.
 */
export function runLength(full: RunLength, quick: RunLength): RunLength & { quick: boolean } {
  const isQuick = Boolean(process.env.BENCH_QUICK);
  const defaults = isQuick ? quick : full;
  return {
    quick: isQuick,
    rounds: Number(process.env.BENCH_ROUNDS ?? defaults.rounds),
    duration: Number(process.env.BENCH_DURATION ?? defaults.duration),
  };
}

/** The end of every run, failed or not: the server processes first, then the Redis they use. */
export async function stopAll(stacks: readonly Stack[], redis: RedisTarget): Promise<void> {
  await Promise.all(stacks.map(stopStack));
  await redis.stop();
}

/** Runs a bench's main: a failure is printed and sets the exit code, so `make` fails too. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
