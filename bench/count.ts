/**
 * Live-count benchmark (`make bench-count`, ADR 180): the engine's count from per-shard counters
 * against the count script before ADR 180 (bench/legacy/count-3.lua, one script per shard visiting
 * 64 live and 16 user buckets), on the same sessions in one Redis Cluster (3 masters + 3 replicas
 * from the test harness), rounds alternating. Then the count under steady expiry: deadlines spread
 * over 30 minutes and counts 5 s apart in the sessions' time (a node's gauge refresh;
 * src/metrics/live-counts.ts), with the expiry sweeper's work between them (ADR 230: a sweep of
 * every due shard each second of the sessions' time, as store.sweep.interval 1s does), timed
 * apart; then the count with no sweeper (store.sweep.maxLag 0: each count sweeps what expired).
 *
 * Environment: BENCH_COUNT_SESSIONS (default 200000), BENCH_SHARDS (default 256),
 * BENCH_COUNT_ROUNDS (timed counts per variant, default 30), BENCH_COUNT_SPREAD_MIN (minutes the
 * deadlines spread over, default 30), BENCH_CONCURRENCY (creates in flight while loading,
 * default 100). Figures are recorded in docs/performance.md; compare within
 * one run (ENVIRONMENT.md: 2 shared cores).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { RedisSettings } from '../src/config/settings';
import type { StoredSession } from '../src/store/engine';
import { RedisEngine, SWEEP_LIMIT } from '../src/store/redis/redis-engine';
import { DEFAULTS } from '../src/config/defaults';
import { parseDuration } from '../src/config/duration';
import { evalScript } from '../src/store/redis/commands';
import type { LuaScript } from '../src/store/redis/scripts';
import { drive } from './lib/sessions';
import { hashSecret, newId, newSecret } from '../src/session/token';
import { getProvider, type RedisClusterHandle, type RedisNode } from '../test/harness';

const SESSIONS = Number(process.env.BENCH_COUNT_SESSIONS ?? 200_000);
const SHARDS = Number(process.env.BENCH_SHARDS ?? 256);
const ROUNDS = Number(process.env.BENCH_COUNT_ROUNDS ?? 30);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const MINUTE = 60_000;
/**
 * Deadlines are spread over this window after `start`: the idle TTL's steady state. A shorter one
 * gives the expiry rate of more sessions (200k over 6 min expire as fast as 1M over 30 min).
 */
const SPREAD = Number(process.env.BENCH_COUNT_SPREAD_MIN ?? 30) * MINUTE;
/** Sessions' time between two counts under expiry (the gauges' cache period). */
const COUNT_EVERY = 5_000;
/** The sweeper's period and the count's lag bound: the defaults (ADR 230). */
const SWEEP_EVERY = Number(parseDuration(DEFAULTS.store.sweep.interval));
const MAX_LAG = Number(parseDuration(DEFAULTS.store.sweep.maxLag));

function settings(cluster: RedisClusterHandle): RedisSettings {
  return {
    mode: 'cluster',
    nodes: cluster.seeds,
    sentinelName: 'mymaster',
    tls: false,
    natMap: {},
    dnsServers: [],
    rediscoverInterval: 0,
    keyPrefix: 'hfcount',
    shards: SHARDS,
    commandTimeout: 10_000,
    connectTimeout: 5000,
    durability: { replicas: 0, timeout: 100 },
    require: {
      persistence: 'any',
      replicasPerMaster: 1,
      evictionPolicies: [],
      minVersion: '6.2.0',
    },
  };
}

function legacyScript(): LuaScript {
  const lua = readFileSync(join(__dirname, 'legacy', 'count-3.lua'), 'utf8');
  return { name: 'count', numKeys: 3, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** The count before ADR 180: one script per shard over every bucket, issued at once. */
async function legacyCount(engine: RedisEngine, script: LuaScript, now: number): Promise<number> {
  const k = engine.keys;
  const replies = await Promise.all(
    Array.from({ length: SHARDS }, (_, shard) =>
      evalScript(
        engine.connection.reads,
        script,
        [k.livePrefix(shard), k.usersPrefix(shard), k.sessionPrefix(shard)],
        [now, SWEEP_LIMIT, k.liveBuckets, k.userBuckets],
      ),
    ),
  );
  return replies.reduce<number>((sum, r) => sum + Number((r as number[])[0]), 0);
}

/**
 * CPU time the Redis servers used (INFO cpu: user + system), summed over masters, in µs. Process
 * time, not command time: commandstats would count a script and the commands inside it twice.
 */
async function serverUsec(masters: RedisNode[]): Promise<number> {
  const infos = await Promise.all(masters.map((m) => m.info('cpu')));
  return infos.reduce(
    (sum, info) => sum + (Number(info.used_cpu_user) + Number(info.used_cpu_sys)) * 1e6,
    0,
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, value };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function main(): Promise<void> {
  console.log(`holdfast count benchmark: ${SESSIONS} sessions, ${SHARDS} shards, 3+3 cluster`);
  const cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 1 });
  const engine = new RedisEngine(settings(cluster), { name: 'bench', countMaxLagMs: MAX_LAG });
  // The same store counted as with no sweeper running (store.sweep.maxLag 0): exact, sweeping.
  const sweeping = new RedisEngine(settings(cluster), { name: 'bench-sweeping' });
  try {
    await engine.start();
    await sweeping.start();
    const start = Date.now();
    const secretHash = hashSecret(newSecret());
    const deadline = (i: number) => start + MINUTE + Math.floor((i / SESSIONS) * SPREAD);
    const loadSeconds = await drive(SESSIONS, CONCURRENCY, async (i) => {
      const userId = `u${1_000_000 + i}`;
      const s: StoredSession = {
        id: newId(),
        userId,
        secretHash,
        method: 'password',
        createdAt: start,
        lastSeenAt: start,
        // Spread evenly: nothing is due before start + 1 min, then a steady stream expires.
        expiresAt: deadline(i),
        absoluteExpiresAt: start + 7 * 24 * 60 * MINUTE,
        ip: '10.0.0.1',
        userAgent: 'Chrome 120 on Windows',
        credentialVersion: 0,
        seriesId: null,
      };
      await engine.create(engine.keys.shardOf(userId), s, 50);
    });
    console.log(`loaded in ${loadSeconds.toFixed(1)} s (${Math.round(SESSIONS / loadSeconds)}/s)`);

    // The first count builds every shard's counter from its indexes (what an upgrade costs once).
    const first = await timed(() => engine.count(start));
    console.log(
      `first count (builds ${engine.stats.countersBuilt} counters): ${fmt(first.ms)}, ` +
        `${first.value.sessions} sessions, ${first.value.users} users`,
    );
    if (first.value.sessions !== SESSIONS) throw new Error('count does not match the load');

    const legacy = legacyScript();
    const before: number[] = [];
    const after: number[] = [];
    const floor: number[] = [];
    const serverBefore: number[] = [];
    const serverAfter: number[] = [];
    const masters = (await cluster.masters()).map((m) => {
      if (!m.node) throw new Error(`${m.host}:${m.port} is not a harness node`);
      return m.node;
    });
    const reads = engine.connection.reads;
    const counterKeys = Array.from({ length: SHARDS }, (_, shard) => engine.keys.counter(shard));
    for (let round = 0; round < ROUNDS; round++) {
      const u0 = await serverUsec(masters);
      const old = await timed(() => legacyCount(engine, legacy, start));
      // The floor: one GET per shard's counter with nothing around them (the count's reads before
      // ADR 250). Timed before the count in every other round: whichever comes right after the
      // legacy count's 256 scripts pays for what they left behind (GC, AOF, replication).
      const gets = async () =>
        floor.push((await timed(() => Promise.all(counterKeys.map((key) => reads.get(key))))).ms);
      if (round % 2) await gets();
      const u1 = await serverUsec(masters);
      const now = await timed(() => engine.count(start));
      const u2 = await serverUsec(masters);
      serverBefore.push(u1 - u0);
      serverAfter.push(u2 - u1);
      if (!(round % 2)) await gets();
      if (old.value !== SESSIONS || now.value.sessions !== SESSIONS)
        throw new Error(`round ${round}: ${old.value} / ${now.value.sessions} != ${SESSIONS}`);
      before.push(old.ms);
      after.push(now.ms);
    }
    console.log(`\nnothing due, ${ROUNDS} rounds alternating (median, p90):`);
    console.log(
      `  before (script per shard, 64+16 buckets): ${fmt(quantile(before, 0.5))}, ${fmt(quantile(before, 0.9))}`,
    );
    console.log(
      `  after (counters, one call per master):    ${fmt(quantile(after, 0.5))}, ${fmt(quantile(after, 0.9))}`,
    );
    console.log(
      `  ${SHARDS} GETs alone, auto-pipelined:         ${fmt(quantile(floor, 0.5))}, ${fmt(quantile(floor, 0.9))}`,
    );
    console.log(
      `  Redis CPU per count, summed over masters (INFO cpu): before ` +
        `${fmt(quantile(serverBefore, 0.5) / 1000)}, after ${fmt(quantile(serverAfter, 0.5) / 1000)}`,
    );

    // Steady expiry with the sweeper (ADR 230): each second of the sessions' time a sweep of every
    // due shard (the lease holder's tick), and every 5 s a count, half a sweep period after the
    // last sweep (counts and sweeps are not in step on a real node).
    const expiring: number[] = [];
    const serverExpiring: number[] = [];
    const sweeps: number[] = [];
    const serverSweeps: number[] = [];
    const lags: number[] = [];
    const floorExpiring: number[] = [];
    let swept = 0;
    let at = start + MINUTE;
    // Deadlines are increasing in i: the sessions alive at t are those after the last one due.
    const live = (t: number) => {
      let lo = 0;
      let hi = SESSIONS;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (deadline(mid) <= t) lo = mid + 1;
        else hi = mid;
      }
      return SESSIONS - lo;
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (let t = 0; t < COUNT_EVERY; t += SWEEP_EVERY) {
        at += SWEEP_EVERY;
        const u0 = await serverUsec(masters);
        const s = await timed(() => engine.sweep(at));
        serverSweeps.push((await serverUsec(masters)) - u0);
        sweeps.push(s.ms);
        swept += s.value.expired;
      }
      const countAt = at + SWEEP_EVERY / 2;
      // The floor in the same rounds (the machine's load changes over a run), before the count in
      // every other round: the first read after the sweeps pays for what they left behind.
      const gets = async () =>
        floorExpiring.push(
          (await timed(() => Promise.all(counterKeys.map((key) => reads.get(key))))).ms,
        );
      if (round % 2) await gets();
      const u0 = await serverUsec(masters);
      const c = await timed(() => engine.count(countAt));
      serverExpiring.push((await serverUsec(masters)) - u0);
      expiring.push(c.ms);
      lags.push(c.value.lagMs ?? 0);
      if (!(round % 2)) await gets();
      // Within the bound: at least the sessions alive now, at most those alive MAX_LAG ago.
      if (c.value.sessions < live(countAt) || c.value.sessions > live(countAt - MAX_LAG))
        throw new Error(
          `count ${c.value.sessions} outside [${live(countAt)}, ${live(countAt - MAX_LAG)}]`,
        );
      if (c.value.expired !== 0) throw new Error('the count swept: the sweeper did not keep up');
    }
    const perCount = swept / ROUNDS;
    console.log(
      `\nunder steady expiry (${perCount.toFixed(0)} sessions expire per ${COUNT_EVERY / 1000} s, ` +
        `as ${((perCount * 30 * MINUTE) / COUNT_EVERY / 1e6).toFixed(2)}M sessions with a 30 min idle TTL):`,
    );
    console.log(
      `  count (counters only, sweeper every ${SWEEP_EVERY} ms): median ${fmt(quantile(expiring, 0.5))}, ` +
        `p90 ${fmt(quantile(expiring, 0.9))}; Redis CPU per count ${fmt(quantile(serverExpiring, 0.5) / 1000)}; ` +
        `lag median ${quantile(lags, 0.5)} ms, max ${Math.max(...lags)} ms (bound ${MAX_LAG} ms)`,
    );
    console.log(
      `  the same ${SHARDS} GETs alone in these rounds: median ${fmt(quantile(floorExpiring, 0.5))}, ` +
        `p90 ${fmt(quantile(floorExpiring, 0.9))}`,
    );
    console.log(
      `  the sweeper's tick: median ${fmt(quantile(sweeps, 0.5))}, p90 ${fmt(quantile(sweeps, 0.9))}; ` +
        `Redis CPU per tick ${fmt(quantile(serverSweeps, 0.5) / 1000)} ` +
        `(${((quantile(serverSweeps, 0.5) / 1000 / SWEEP_EVERY) * 100).toFixed(2)}% of one core)`,
    );

    // No sweeper (maxLag 0): each count sweeps what expired since the previous one (ADR 180).
    const exact: number[] = [];
    const serverExact: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      at += COUNT_EVERY;
      const u0 = await serverUsec(masters);
      const c = await timed(() => sweeping.count(at));
      serverExact.push((await serverUsec(masters)) - u0);
      exact.push(c.ms);
      if (c.value.sessions !== live(at))
        throw new Error(`exact count ${c.value.sessions} != ${live(at)}`);
    }
    console.log(
      `  count sweeping itself (maxLag 0): median ${fmt(quantile(exact, 0.5))}, p90 ${fmt(quantile(exact, 0.9))}; ` +
        `Redis CPU per count ${fmt(quantile(serverExact, 0.5) / 1000)}`,
    );
    console.log(
      `  counters repaired: ${engine.stats.countersRepaired + sweeping.stats.countersRepaired} (must be 0), built: ${engine.stats.countersBuilt}`,
    );

    // The count before ADR 180 under the same expiry, in the next windows. Last: its sweep leaves
    // the counters behind (it predates them), so nothing runs after it.
    const legacyExpiring: number[] = [];
    const serverLegacy: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      at += COUNT_EVERY;
      const u0 = await serverUsec(masters);
      legacyExpiring.push((await timed(() => legacyCount(engine, legacy, at))).ms);
      serverLegacy.push((await serverUsec(masters)) - u0);
    }
    console.log(
      `  before: median ${fmt(quantile(legacyExpiring, 0.5))}, p90 ${fmt(quantile(legacyExpiring, 0.9))}; ` +
        `Redis CPU per count ${fmt(quantile(serverLegacy, 0.5) / 1000)}`,
    );
  } finally {
    await engine.stop();
    await sweeping.stop();
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
