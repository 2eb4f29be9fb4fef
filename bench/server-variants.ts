/**
 * Several variants of the server around the plugin side by side in one run (ADR 255, 256): each
 * variant is a process (`holdfast start` from a build, with its own settings, or the library
 * stack), all on one Redis Cluster 3+3 from the test harness, all loaded in turn on GET /auth/me
 * with 50 connections of one session each (the order alternates per round). For each variant it
 * prints the CPU µs per request of every thread kind (primary P / worker W; main thread, V8's GC
 * helpers, libuv's pool; user and system, from /proc/PID/task) summed over the rounds: on a
 * shared machine, what differs between variants measured side by side is what one can read.
 *
 * Compare a change with the build before it: build the earlier commit into a directory inside
 * this repository (its dist/ and a copy of package.json beside it, so node_modules resolves) and
 * name its cli/main.js in a variant. With BENCH_IDLE=N no load is sent: each variant's CPU over N
 * idle seconds is printed instead (what a process costs per second whatever it serves).
 *
 * Environment: BENCH_VARIANTS (JSON: [[name, [script, ...args], {HOLDFAST_...: value}], ...],
 * a name starting with `library` is waited for on /auth/openapi.json; default: start as shipped,
 * start with log.access off, start with metrics off, the library stack), BENCH_ROUNDS (default 4),
 * BENCH_DURATION (seconds per variant per round, default 6), BENCH_IDLE.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/harness';
import {
  cannon,
  checkSessions,
  holdfastEnv,
  PASSWORD,
  runBench,
  signInAll,
  startRedis,
  startStack,
  stopAll,
  waitForHttp,
  type Stack,
} from './lib/stacks';

type Variant = [name: string, args: string[], env: NodeJS.ProcessEnv];

const START = ['dist/cli/main.js', 'start'];
const VARIANTS: Variant[] = process.env.BENCH_VARIANTS
  ? (JSON.parse(process.env.BENCH_VARIANTS) as Variant[])
  : [
      ['start', START, {}],
      ['start-access-off', START, { HOLDFAST_LOG__ACCESS: 'off' }],
      ['start-metrics-off', START, { HOLDFAST_METRICS__ENABLED: 'false' }],
      ['library', ['bench/library-server.js'], {}],
    ];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const DURATION = Number(process.env.BENCH_DURATION ?? 6);
const IDLE = Number(process.env.BENCH_IDLE ?? 0);
const USER_HZ = 100;

/** CPU seconds per thread kind (`P:MainThread:u`), over a process and its children. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  const pids = [pid];
  const add = (key: string, ticks: number): void =>
    void out.set(key, (out.get(key) ?? 0) + ticks / USER_HZ);
  for (let i = 0; i < pids.length; i++) {
    try {
      for (const task of fs.readdirSync(`/proc/${pids[i]}/task`)) {
        const stat = fs.readFileSync(`/proc/${pids[i]}/task/${task}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const key = `${i === 0 ? 'P' : 'W'}:${comm}`;
        add(`${key}:u`, Number(fields[11]));
        add(`${key}:s`, Number(fields[12]));
      }
      const children = fs.readFileSync(`/proc/${pids[i]}/task/${pids[i]}/children`, 'utf8');
      pids.push(...children.split(' ').filter(Boolean).map(Number));
    } catch {
      // gone
    }
  }
  return out;
}

function minus(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]));
}

/** `P:MainThread:u=12.3 ...`, largest first, each divided by `per`, zeros left out. */
function breakdown(cpu: Map<string, number>, per: number, unit: string): string {
  return [...cpu]
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}=${((v * 1e6) / per).toFixed(1)}${unit}`)
    .join(' ');
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-bench-variants-'));
  const redis = await startRedis('cluster');
  const stacks: Stack[] = [];
  try {
    const env = await holdfastEnv(redis);
    for (const [name, args, extra] of VARIANTS) {
      const port = await freePort();
      const metricsPort = await freePort();
      stacks.push(
        startStack(
          name,
          args,
          {
            ...env,
            ...extra,
            HOLDFAST_HTTP__PORT: String(port),
            HOLDFAST_METRICS__PORT: String(metricsPort),
          },
          port,
          dir,
        ),
      );
    }
    const isLibrary = (s: Stack): boolean => s.name.startsWith('library');
    await Promise.all(
      stacks.map((s) => waitForHttp(s, isLibrary(s) ? '/auth/openapi.json' : '/health/ready')),
    );
    if (IDLE > 0) {
      await new Promise((resolve) => setTimeout(resolve, 3000)); // start-up settles
      const before = stacks.map((s) => threadCpu(s.child.pid as number));
      await new Promise((resolve) => setTimeout(resolve, IDLE * 1000));
      stacks.forEach((s, i) => {
        const used = minus(threadCpu(s.child.pid as number), before[i]);
        console.log(`${s.name}, idle: ${breakdown(used, IDLE * 1000, ' ms/s')}`);
      });
      return;
    }
    const first = stacks.find((s) => !isLibrary(s));
    if (!first)
      throw new Error('BENCH_VARIANTS: at least one `holdfast start` variant signs users in');
    await signInAll(first, '/auth/register', 50, (n) => ({
      email: `reader${n}@example.com`,
      password: PASSWORD,
    }));
    for (const s of stacks) {
      s.cookies = first.cookies;
      await checkSessions(s, '/auth/me');
      await cannon(s, '/auth/me', 3); // warm-up
    }
    const totals = new Map<string, { requests: number; cpu: Map<string, number> }>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of round % 2 ? stacks : [...stacks].reverse()) {
        const before = threadCpu(s.child.pid as number);
        const m = await cannon(s, '/auth/me', DURATION);
        if (m.non2xx > 0 || m.errors > 0)
          throw new Error(`${s.name}: ${m.non2xx} non-2xx answers, ${m.errors} errors`);
        const used = minus(threadCpu(s.child.pid as number), before);
        const total = totals.get(s.name) ?? { requests: 0, cpu: new Map<string, number>() };
        total.requests += m.total;
        for (const [k, v] of used) total.cpu.set(k, (total.cpu.get(k) ?? 0) + v);
        totals.set(s.name, total);
        console.log(
          `round ${round} ${s.name}: ${Math.round(m.rps)} req/s, ${m.cpuUs.toFixed(1)} µs/req, ` +
            `load average ${os.loadavg()[0].toFixed(1)}`,
        );
      }
    }
    for (const [name, t] of totals) {
      const sum = [...t.cpu.values()].reduce((a, b) => a + b, 0);
      console.log(
        `${name}: ${((sum * 1e6) / t.requests).toFixed(1)} µs/req  ${breakdown(t.cpu, t.requests, '')}`,
      );
    }
  } finally {
    await stopAll(stacks, redis);
  }
}

runBench(main);
