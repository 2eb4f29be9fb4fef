/**
 * Holdfast beside the session stacks people use today (`make bench`; `make bench QUICK=1` in
 * under 3 minutes): one run, one machine, one Redis Cluster of 3 masters + 3 replicas with AOF
 * from the test harness, every stack in its own process (bench/peer-server.js,
 * bench/library-server.js, `holdfast start`), started from the build (`make bench` builds).
 *
 * Every stack serves the same small JSON, `{"id": <user id>}`, on GET /me behind its session
 * check (holdfast-start-me and holdfast-library-me on the plugin's /auth/me, as in
 * bench/server-overhead.ts). Load: 50 connections, each with its own signed-in session (with one
 * shared cookie catbox merges concurrent reads and the comparison is void), one autocannon
 * instance per connection in this process, the same settings for every stack after a warm-up;
 * every stack measured in each round, the order reversed every other round. The ratio to bare
 * Hapi is taken within each round. Redis commands per request: INFO commandstats deltas summed
 * over every master around each measurement (housekeeping commands such as INFO, PING and
 * REPLCONF left out).
 *
 * Writes bench/results/latest.json, then the table and docs/performance-side-by-side.svg into
 * docs/performance.md (bench/chart.ts redraws them from latest.json alone). Client, servers and
 * Redis share the machine's cores: the ratios are the result, never the absolute figures.
 *
 * `holdfast-near-cache` is holdfast-strict with `nearCache.enabled` (HOLDFAST_NEARCACHE__ENABLED=true).
 *
 * Environment: BENCH_QUICK (set: 2 rounds of 3 s), BENCH_ROUNDS (default 3), BENCH_DURATION
 * (seconds per stack per round, default 10), BENCH_WARMUP (seconds, default 5; 1 when quick),
 * BENCH_STACKS (comma-separated subset; bare is always measured), BENCH_REDIS (`cluster` or
 * `standalone`), BENCH_OUT (where latest.json goes), BENCH_DOCS (set to 0: leave the docs alone),
 * BENCH_CPU_PROF (a directory: every stack runs with node --cpu-prof and writes its profile there
 * when the bench stops it; the profiler's cost tilts the ratios, so profile and measure apart).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import prettier from 'prettier';
import { freePort, type RedisNode } from '../test/harness';
import { writeReport } from './chart';
import {
  STACK_NAMES,
  type LatestResult,
  type MeasuredStack,
  type StackName,
  type StackResult,
} from './lib/report';
import {
  cannon,
  checkSessions,
  holdfastEnv,
  median,
  ROOT,
  runBench,
  runLength,
  signInAll,
  startRedis,
  startStack,
  stopAll,
  waitForHttp,
  waitForListening,
  type Measured,
  type Stack,
} from './lib/stacks';

const RUN = runLength({ rounds: 3, duration: 10 }, { rounds: 2, duration: 3 });
const WARMUP = Number(process.env.BENCH_WARMUP ?? (RUN.quick ? 1 : 5));
const CONNECTIONS = 50;
const OUT = process.env.BENCH_OUT ?? path.join(__dirname, 'results', 'latest.json');
/** Commands that are not the stacks' work: the bench's own INFO, replication, health checks. */
const HOUSEKEEPING = new Set([
  'info',
  'ping',
  'replconf',
  'psync',
  'sync',
  'cluster',
  'client',
  'command',
  'hello',
  'config',
  'select',
  'auth',
  'readonly',
  'script',
  'memory',
  'slowlog',
  'latency',
]);

/** The stacks with Holdfast's own cookie: one set of sessions serves them all. */
const NATIVE = new Set<StackName>([
  'holdfast-strict',
  'holdfast-near-cache',
  'holdfast-start-me',
  'holdfast-library-me',
]);

interface Planned {
  readonly name: StackName;
  readonly route: string;
  readonly stack: Stack;
  /** Serves POST /bench/login for Holdfast's own cookie (library-server.js, BENCH_SEED=1). */
  readonly seeds?: boolean;
  /** Resolves once it serves: null, or why the stack is skipped. */
  readonly ready: () => Promise<string | null>;
}

async function commandCalls(masters: RedisNode[]): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const info of await Promise.all(masters.map((m) => m.info('commandstats')))) {
    for (const [field, value] of Object.entries(info)) {
      const name = field.replace(/^cmdstat_/, '');
      if (name === field || HOUSEKEEPING.has(name.split('|')[0])) continue;
      const n = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
      calls.set(name, (calls.get(name) ?? 0) + n);
    }
  }
  return calls;
}

function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, n] of after) {
    const d = n - (before.get(name) ?? 0);
    if (d > 0) out.set(name, d);
  }
  return out;
}

const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const began = Date.now();
  const loadStart = os.loadavg();
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js')))
    throw new Error('no build in dist/: run `make build` (make bench does) first');
  const only = process.env.BENCH_STACKS?.split(',').filter(Boolean);
  const profDir = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : '';
  const profArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  const names = STACK_NAMES.filter((n) => !only || n === 'bare' || only.includes(n));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-bench-'));
  console.log(
    `side by side: ${names.length} stacks, ${CONNECTIONS} connections with one session each, ` +
      `${RUN.rounds} rounds of ${RUN.duration} s after ${WARMUP} s of warm-up${RUN.quick ? ' (quick)' : ''}; logs in ${dir}`,
  );
  const redis = await startRedis(process.env.BENCH_REDIS ?? 'cluster');
  console.log(`${secondsSince(began)} s: ${redis.label}`);
  const planned: Planned[] = [];
  try {
    const masters = await redis.masters();
    const redisVersion = (await masters[0].info('server')).redis_version;
    const hf = await holdfastEnv(redis);
    const peerEnv = {
      BENCH_REDIS_MODE: redis.mode,
      BENCH_REDIS_NODES: redis.nodes.map((n) => `${n.host}:${n.port}`).join(','),
    };
    for (const name of names) {
      const port = await freePort();
      const portEnv = { HOLDFAST_HTTP__PORT: String(port), BENCH_PORT: String(port) };
      if (name === 'holdfast-start-me') {
        const stack = startStack(
          name,
          ['dist/cli/main.js', 'start'],
          { ...hf, ...portEnv },
          port,
          dir,
          profArgs,
        );
        planned.push({
          name,
          route: '/auth/me',
          stack,
          ready: () => waitForHttp(stack, '/health/ready').then(() => null),
        });
      } else if (
        name === 'holdfast-strict' ||
        name === 'holdfast-near-cache' ||
        name === 'holdfast-library-me'
      ) {
        const near = name === 'holdfast-near-cache' ? { HOLDFAST_NEARCACHE__ENABLED: 'true' } : {};
        const stack = startStack(
          name,
          ['bench/library-server.js'],
          { ...hf, ...near, ...portEnv, BENCH_SEED: '1' },
          port,
          dir,
          profArgs,
        );
        planned.push({
          name,
          route: name === 'holdfast-library-me' ? '/auth/me' : '/me',
          stack,
          seeds: true,
          ready: () => waitForListening(stack).then(() => null),
        });
      } else {
        const env = {
          ...(name === 'holdfast-cookie-adapter' ? hf : {}),
          ...peerEnv,
          ...portEnv,
          BENCH_STACK: name,
        };
        const stack = startStack(name, ['bench/peer-server.js'], env, port, dir, profArgs);
        planned.push({
          name,
          route: '/me',
          stack,
          ready: () => waitForListening(stack).then(() => null),
        });
      }
    }
    const skipped = new Map<StackName, string>();
    for (const p of planned) {
      const reason = await p.ready();
      if (reason) {
        skipped.set(p.name, reason);
        console.log(`${p.name}: skipped (${reason})`);
      }
    }
    const live = planned.filter((p) => !skipped.has(p.name));
    console.log(`${secondsSince(began)} s: ${live.length} stacks serving`);

    // Sessions: 50 Holdfast accounts registered once (every Holdfast stack reads the same store
    // with the same cookie password); each peer and the cookie adapter sign their own 50 in.
    const holdfast = live.filter((p) => NATIVE.has(p.name));
    if (holdfast.length > 0) {
      // Seeded through the first library-server stack (BENCH_SEED): the same store and cookie
      // password make each session valid on every native stack.
      const seeder = holdfast.find((p) => p.seeds) ?? holdfast[0];
      if (!seeder.seeds) throw new Error('no Holdfast stack to sign the sessions in through');
      await signInAll(seeder.stack, '/bench/login', CONNECTIONS, (n) => ({ user: `reader${n}` }));
      for (const p of holdfast) p.stack.cookies = seeder.stack.cookies;
    }
    console.log(`${secondsSince(began)} s: Holdfast sessions signed in`);
    for (const p of live) {
      // Bare Hapi checks nothing: its connections send a cookie all the same.
      if (p.name === 'bare')
        p.stack.cookies = Array.from({ length: CONNECTIONS }, (_, n) => `bench=${n}`);
      if (p.stack.cookies.length === 0)
        await signInAll(p.stack, '/bench/login', CONNECTIONS, (n) => ({ user: `reader${n}` }));
      // /auth/me answers the plugin's own shape, { user: { id, ... }, ... }.
      const body = JSON.parse(await checkSessions(p.stack, p.route)) as {
        id?: unknown;
        user?: { id?: unknown };
      };
      if (typeof (p.route === '/me' ? body.id : body.user?.id) !== 'string')
        throw new Error(`${p.name} ${p.route} answered no user id`);
    }
    if (live.some((p) => new Set(p.stack.cookies).size !== CONNECTIONS))
      throw new Error('every connection needs a session of its own');

    console.log(`${secondsSince(began)} s: every stack signed in; warming up`);
    for (const p of live) await cannon(p.stack, p.route, WARMUP);

    const got = new Map<StackName, { m: Measured[]; calls: Map<string, number>[] }>();
    for (const p of live) got.set(p.name, { m: [], calls: [] });
    for (let round = 1; round <= RUN.rounds; round++) {
      // Reversed every other round, so a drift in machine load favours no stack.
      const order = round % 2 ? live : [...live].reverse();
      for (const p of order) {
        const before = await commandCalls(masters);
        const m = await cannon(p.stack, p.route, RUN.duration);
        const calls = delta(await commandCalls(masters), before);
        if (m.non2xx > 0 || m.errors > 0)
          throw new Error(`${p.name}: ${m.non2xx} non-2xx answers, ${m.errors} errors`);
        const g = got.get(p.name)!;
        g.m.push(m);
        g.calls.push(calls);
        console.log(
          `round ${round} ${p.name.padEnd(24)} ${Math.round(m.rps).toString().padStart(6)} req/s ` +
            `p50 ${m.p50Ms} ms p99 ${m.p99MedianMs} ms, ${(sum(calls) / m.total).toFixed(2)} Redis commands/request`,
        );
      }
    }

    const bare = got.get('bare')!.m;
    const stacks: StackResult[] = names.map((name) => {
      const reason = skipped.get(name);
      if (reason) return { name, skipped: reason };
      const p = planned.find((x) => x.name === name)!;
      const g = got.get(name)!;
      const byName: Record<string, number> = {};
      const requests = g.m.reduce((n, m) => n + m.total, 0);
      for (const calls of g.calls)
        for (const [cmd, n] of calls) byName[cmd] = (byName[cmd] ?? 0) + n;
      for (const cmd of Object.keys(byName)) byName[cmd] = round3(byName[cmd] / requests);
      const measured: MeasuredStack = {
        name,
        route: p.route,
        reqPerSec: g.m.map((m) => Math.round(m.rps)),
        p50Ms: g.m.map((m) => m.p50Ms),
        p99Ms: g.m.map((m) => m.p99MedianMs),
        ratioToBare: g.m.map((m, i) => round3(m.rps / bare[i].rps)),
        redisCommandsPerRequest: round3(median(g.calls.map((c, i) => sum(c) / g.m[i].total))),
        redisCommandsByName: byName,
        cpuUsPerRequest: g.m.map((m) => Number(m.cpuUs.toFixed(1))),
        cpuRatioToBare: g.m.map((m, i) => round3(bare[i].cpuUs / m.cpuUs)),
      };
      return measured;
    });
    const result: LatestResult = {
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        redis: `${redis.label}, Redis ${redisVersion}`,
        loadAverage: { start: loadStart.map(round1), end: os.loadavg().map(round1) },
      },
      settings: {
        quick: RUN.quick,
        rounds: RUN.rounds,
        secondsPerRound: RUN.duration,
        warmupSeconds: WARMUP,
        connections: CONNECTIONS,
        sessionsPerStack: CONNECTIONS,
      },
      stacks,
    };
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    // Formatted as `prettier --check .` expects of a committed file.
    fs.writeFileSync(OUT, await prettier.format(JSON.stringify(result), { parser: 'json' }));
    if (process.env.BENCH_DOCS !== '0') await writeReport(result);
    console.log('\n| stack | ratio to bare per round | median | by CPU | Redis commands/request |');
    for (const s of stacks)
      console.log(
        'skipped' in s
          ? `| ${s.name} | skipped: ${s.skipped} |`
          : `| ${s.name} | ${s.ratioToBare.join(', ')} | ${median(s.ratioToBare).toFixed(3)} | ${median(s.cpuRatioToBare).toFixed(3)} | ${s.redisCommandsPerRequest} |`,
      );
    console.log(
      `written to ${path.relative(process.cwd(), OUT)} in ${Math.round((Date.now() - began) / 1000)} s`,
    );
  } finally {
    await stopAll(
      planned.map((p) => p.stack),
      redis,
    );
  }
}

const secondsSince = (t: number): number => Math.round((Date.now() - t) / 1000);
const round1 = (n: number): number => Math.round(n * 10) / 10;
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

runBench(main);
