/**
 * What the server around the plugin costs (`make bench-server`): GET /auth/me with 50 distinct
 * signed-in sessions, one per connection, against two stacks in one run, in interleaved rounds:
 *
 * - `holdfast-start-me`: the real `holdfast start` process (primary + 1 worker), production
 *   settings, access log and metrics as shipped; its log goes to a file, as under a log shipper.
 * - `holdfast-library-me`: the same plugin with the same settings embedded in a bare Hapi server
 *   (bench/library-server.js), no access log, no metrics.
 *
 * Both run from the build (dist/: `make bench-server` builds first), as operators run them; under
 * ts-node every EventEmitter would pay for node:domain, which ts-node's REPL loads.
 *
 * Both use one Redis from the test harness: a 3+3 Redis Cluster by default. The ratio start /
 * library of each round is printed and written to bench/results/server-overhead.json. Load comes
 * from autocannon in this process, on the same cores as the servers (ENVIRONMENT.md): compare
 * the ratio, never the absolute figures. Loopback only, bounded in time.
 *
 * Besides requests per second, each round reads the CPU time the server processes used
 * (/proc/PID/stat) and prints CPU µs per request, and then loads both stacks at once (50
 * connections each) for the same time: on a machine shared with other work, both figures move
 * far less than throughput measured one stack after the other (docs/performance.md).
 *
 * Environment: BENCH_QUICK (set: 3 short rounds, about 2 minutes in all), BENCH_ROUNDS (rounds
 * per stack, default 6), BENCH_DURATION (seconds per stack per round, default 10),
 * BENCH_REDIS (`cluster`, the default, or `standalone`), BENCH_START_ENV (extra settings for the
 * start stack only, e.g. `HOLDFAST_LOG__ACCESS=off`, comma-separated), BENCH_CPU_PROF (a
 * directory: both stacks run with node --cpu-prof and write their profiles there),
 * BENCH_OUT (where the JSON goes).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import prettier from 'prettier';
import { freePort } from '../test/harness';
import {
  cannon as cannonOn,
  checkSessions,
  holdfastEnv,
  median,
  ROOT,
  PASSWORD,
  runBench,
  runLength,
  signInAll as signInAllOn,
  startRedis,
  startStack,
  stopAll,
  stopStack,
  waitForHttp,
  type Measured,
  type Stack,
} from './lib/stacks';

const RUN = runLength({ rounds: 6, duration: 10 }, { rounds: 3, duration: 5 });
/** A first, unmeasured run per stack: the JIT and the connection pools warm up. */
const WARMUP = RUN.quick ? 3 : 5;
const CONNECTIONS = 50;
const REDIS = process.env.BENCH_REDIS ?? 'cluster';
const OUT = process.env.BENCH_OUT ?? path.join(__dirname, 'results', 'server-overhead.json');

function parseEnvList(list: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const pair of (list ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`BENCH_START_ENV: "${pair}" is not NAME=value`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

/** 50 accounts, one session each, registered through `stack`. */
async function signInAll(stack: Stack, route: string): Promise<void> {
  await signInAllOn(stack, route, CONNECTIONS, (n) => ({
    email: `reader${n}@example.com`,
    password: PASSWORD,
  }));
  await checkMe(stack);
}

async function checkMe(stack: Stack): Promise<void> {
  await checkSessions(stack, '/auth/me');
}

const cannon = (stack: Stack, seconds: number): Promise<Measured> =>
  cannonOn(stack, '/auth/me', seconds);

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const view = (m: Measured) => ({
  rps: Math.round(m.rps),
  requests: m.total,
  p99Ms: m.p99Ms,
  cpuUsPerRequest: Number(m.cpuUs.toFixed(1)),
});

async function main(): Promise<void> {
  const began = Date.now();
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js')))
    throw new Error('no build in dist/: run `make build` (make bench-server does) first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-bench-server-'));
  const startExtra = parseEnvList(process.env.BENCH_START_ENV);
  const profDir = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : '';
  // Both stacks or neither: the profiler's own cost must not tilt the ratio.
  const profArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  console.log(
    `holdfast server overhead: GET /auth/me, ${CONNECTIONS} connections with one session each, ` +
      `${RUN.rounds} rounds of ${RUN.duration} s per stack${RUN.quick ? ' (quick)' : ''}; logs in ${dir}`,
  );
  const redis = await startRedis(REDIS);
  const stacks: Stack[] = [];
  try {
    const env = await holdfastEnv(redis);
    const startPort = await freePort();
    const libraryPort = await freePort();
    const start = startStack(
      'holdfast-start-me',
      ['dist/cli/main.js', 'start'],
      { ...env, ...startExtra, HOLDFAST_HTTP__PORT: String(startPort) },
      startPort,
      dir,
      profArgs,
    );
    stacks.push(start);
    const library = startStack(
      'holdfast-library-me',
      ['bench/library-server.js'],
      { ...env, HOLDFAST_HTTP__PORT: String(libraryPort) },
      libraryPort,
      dir,
      profArgs,
    );
    stacks.push(library);
    await Promise.all([
      waitForHttp(start, '/health/ready'),
      waitForHttp(library, '/auth/openapi.json'),
    ]);
    // 50 accounts, one session each, signed up through the start stack; the library stack has the
    // same settings and store, so the same cookies are sessions there too.
    await signInAll(start, '/auth/register');
    library.cookies = start.cookies;
    await checkMe(library);

    for (const stack of stacks) await cannon(stack, WARMUP);
    const rounds: Array<Record<string, unknown>> = [];
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    const togetherRatios: number[] = [];
    console.log(
      `\n| round | first | ${start.name} req/s | ${library.name} req/s | ratio | CPU µs/req start | CPU µs/req library | together: start req/s | library req/s | ratio |`,
    );
    console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (let round = 1; round <= RUN.rounds; round++) {
      // Alternate which stack goes first, so a drift in machine load favours neither.
      const order = round % 2 ? [start, library] : [library, start];
      const got = new Map<string, Measured>();
      for (const stack of order) {
        const m = await cannon(stack, RUN.duration);
        if (m.non2xx > 0 || m.errors > 0)
          throw new Error(`${stack.name}: ${m.non2xx} non-2xx answers, ${m.errors} errors`);
        got.set(stack.name, m);
      }
      const s = got.get(start.name) as Measured;
      const l = got.get(library.name) as Measured;
      const ratio = s.rps / l.rps;
      ratios.push(ratio);
      // Then both at once, 50 connections each: whatever else runs on the machine slows both alike.
      const [ts, tl] = await Promise.all([
        cannon(start, RUN.duration),
        cannon(library, RUN.duration),
      ]);
      for (const m of [ts, tl])
        if (m.non2xx > 0 || m.errors > 0)
          throw new Error(`together: ${m.non2xx} non-2xx answers, ${m.errors} errors`);
      const together = ts.rps / tl.rps;
      togetherRatios.push(together);
      rounds.push({
        round,
        order: order.map((x) => x.name),
        [start.name]: view(s),
        [library.name]: view(l),
        ratio: Number(ratio.toFixed(3)),
        cpuRatio: Number((l.cpuUs / s.cpuUs).toFixed(3)),
        together: { [start.name]: view(ts), [library.name]: view(tl) },
        togetherRatio: Number(together.toFixed(3)),
      });
      cpuRatios.push(l.cpuUs / s.cpuUs);
      console.log(
        `| ${round} | ${order[0].name.replace('holdfast-', '').replace('-me', '')} | ${fmt(s.rps)} | ${fmt(l.rps)} | ${ratio.toFixed(3)} | ${s.cpuUs.toFixed(1)} | ${l.cpuUs.toFixed(1)} | ${fmt(ts.rps)} | ${fmt(tl.rps)} | ${together.toFixed(3)} |`,
      );
    }
    await Promise.all(stacks.map(stopStack));
    const accessLines = fs
      .readFileSync(start.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"msg":"request"')).length;
    const result = {
      benchmark: 'server-overhead',
      route: 'GET /auth/me',
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      redis: redis.label,
      connections: CONNECTIONS,
      sessionsPerStack: CONNECTIONS,
      secondsPerRound: RUN.duration,
      quick: RUN.quick,
      startStackExtraSettings: startExtra,
      startStackAccessLogLines: accessLines,
      rounds,
      medianRatio: Number(median(ratios).toFixed(3)),
      /** library CPU per request / start CPU per request: the throughput ratio a CPU-bound server would reach. */
      medianCpuRatio: Number(median(cpuRatios).toFixed(3)),
      /** Both stacks loaded at once (50 connections each), the same seconds: start / library. */
      medianTogetherRatio: Number(median(togetherRatios).toFixed(3)),
    };
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    // Formatted as `prettier --check .` expects of a committed file.
    fs.writeFileSync(OUT, await prettier.format(JSON.stringify(result), { parser: 'json' }));
    console.log(
      `\nmedian ratio ${start.name} / ${library.name}: ${result.medianRatio.toFixed(3)} req/s, ` +
        `${result.medianCpuRatio.toFixed(3)} by CPU per request, ` +
        `${result.medianTogetherRatio.toFixed(3)} loaded together ` +
        `(${redis.label}; ${accessLines} access-log lines from the start stack); ` +
        `written to ${path.relative(process.cwd(), OUT)} in ${Math.round((Date.now() - began) / 1000)} s`,
    );
  } finally {
    await stopAll(stacks, redis);
  }
}

runBench(main);
