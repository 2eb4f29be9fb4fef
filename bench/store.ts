/**
 * Store benchmark (`make bench-store`): the Redis engine on a local 3+3 cluster from the test
 * harness, side by side with `redis-benchmark -t get` on the same cluster in the same run, and
 * the memory one session costs. Figures are recorded in docs/performance.md; compare ratios
 * within one run, never absolute numbers across machines (ENVIRONMENT.md).
 *
 * Environment: BENCH_OPS (operations per phase, default 200000), BENCH_CONCURRENCY (requests in
 * flight, default 100), BENCH_MEMORY_SESSIONS (default 100000), BENCH_SHARDS (default 256),
 * BENCH_ROUNDS (default 3), BENCH_MEMORY_ONLY (set: stop after the memory figures), BENCH_USER_IDS (`short`: 8-character ids as in earlier runs, the
 * default; `random`: 22-character random ids, as the user stores make them),
 * BENCH_SESSIONS_PER_USER (default 1: the memory pass gives each user this many sessions),
 * BENCH_SESSION_FORMAT (3: the memory pass writes format 3, as a store not yet upgraded does;
 * default: the newest, as a new store does).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { RedisSettings } from '../src/config/settings';
import { durability } from '../src/store/durability';
import type { StoredSession } from '../src/store/engine';
import { layoutFormat } from '../src/store/redis/meta';
import { RedisEngine } from '../src/store/redis/redis-engine';
import { LIVE_BUCKETS, USER_BUCKETS } from '../src/store/keys';
import type { RedisClient } from '../src/store/redis/connection';
import { getProvider, type RedisClusterHandle, type RedisNode } from '../test/harness';
import { benchSession, DEVICE, drive, MINUTE } from './lib/sessions';

const OPS = Number(process.env.BENCH_OPS ?? 200_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const MEMORY_SESSIONS = Number(process.env.BENCH_MEMORY_SESSIONS ?? 100_000);
const SHARDS = Number(process.env.BENCH_SHARDS ?? 256);
const PREFILL = 10_000;
/** Alternating rounds of raw and engine GETs; the medians are compared. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RANDOM_USER_IDS = process.env.BENCH_USER_IDS === 'random';
const SESSIONS_PER_USER = Number(process.env.BENCH_SESSIONS_PER_USER ?? 1);
const SESSION_FORMAT_ASKED = process.env.BENCH_SESSION_FORMAT === '3' ? 3 : undefined;
const BUDGET_BYTES = 400;
const TARGET_BYTES = 330;

const run = promisify(execFile);

interface Phase {
  name: string;
  ops: number;
  seconds: number;
}

function settings(cluster: RedisClusterHandle, keyPrefix: string): RedisSettings {
  return {
    mode: 'cluster',
    nodes: cluster.seeds,
    sentinelName: 'mymaster',
    tls: false,
    natMap: {},
    dnsServers: [],
    rediscoverInterval: 0,
    keyPrefix,
    shards: SHARDS,
    commandTimeout: 5000,
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

let userSeq = 0;
/**
 * A session as `engine` would make it, of `userId` or of a new user (8-character ids unless
 * BENCH_USER_IDS=random).
 */
function newSession(engine: RedisEngine, now: number, userId?: string): StoredSession {
  const n = ++userSeq;
  return benchSession(n, now, {
    format: engine.sessionFormat,
    userId: userId ?? (RANDOM_USER_IDS ? undefined : `u${1_000_000 + n}`),
  });
}

async function masterNodes(cluster: RedisClusterHandle): Promise<RedisNode[]> {
  return (await cluster.masters()).map((m) => {
    if (!m.node) throw new Error(`${m.host}:${m.port} is not a harness node`);
    return m.node;
  });
}

/** used_memory and the replication backlog (a fixed 1 MB per master once full), summed over masters. */
async function usedMemory(masters: RedisNode[]): Promise<{ used: number; backlog: number }> {
  const infos = await Promise.all(masters.map((m) => m.info('memory')));
  const sum = (field: string) => infos.reduce((total, info) => total + Number(info[field] ?? 0), 0);
  return { used: sum('used_memory'), backlog: sum('mem_replication_backlog') };
}

async function commandCalls(masters: RedisNode[], name: string): Promise<number> {
  const infos = await Promise.all(masters.map((m) => m.info('commandstats')));
  return infos.reduce((sum, info) => {
    const m = /calls=(\d+)/.exec(info[`cmdstat_${name}`] ?? '');
    return sum + (m ? Number(m[1]) : 0);
  }, 0);
}

/** Size and shape of one kind of index over every shard: all its keys, MEMORY USAGE summed. */
interface IndexStats {
  keys: number;
  entries: number;
  bytes: number;
  maxEntries: number;
  encodings: Map<string, number>;
}

/** Length, MEMORY USAGE and encoding of a shard's index keys, in one script on the shard's slot. */
const INDEX_STATS_LUA = `
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call(ARGV[1], key)
  if n > 0 then
    out[#out + 1] = { n, redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'), redis.call('OBJECT', 'ENCODING', key) }
  end
end
return out`;

async function indexStats(
  client: RedisClient,
  keysOfShard: (shard: number) => string[],
  lengthCommand: 'ZCARD' | 'HLEN',
): Promise<IndexStats> {
  const stats: IndexStats = { keys: 0, entries: 0, bytes: 0, maxEntries: 0, encodings: new Map() };
  const replies = await Promise.all(
    Array.from({ length: SHARDS }, (_, shard) => {
      const keys = keysOfShard(shard);
      return client.eval(INDEX_STATS_LUA, keys.length, ...keys, lengthCommand) as Promise<
        [number, number, string][]
      >;
    }),
  );
  for (const [n, bytes, encoding] of replies.flat()) {
    stats.keys++;
    stats.entries += n;
    stats.bytes += bytes;
    stats.maxEntries = Math.max(stats.maxEntries, n);
    stats.encodings.set(encoding, (stats.encodings.get(encoding) ?? 0) + 1);
  }
  return stats;
}

/**
 * Entries of the fullest of `buckets` indexes when `total` entries spread over them at random:
 * the mean plus sqrt(2 ln buckets) standard deviations (Poisson), a fair estimate of the maximum.
 */
function projectedMax(total: number, buckets: number): number {
  const mean = total / buckets;
  return Math.round(mean + Math.sqrt(2 * Math.log(buckets)) * Math.sqrt(mean));
}

/** Memory per session: 100k sessions, SESSIONS_PER_USER per user, summed over masters. */
async function measureMemory(cluster: RedisClusterHandle) {
  const masters = await masterNodes(cluster);
  const engine = new RedisEngine(settings(cluster, 'hfmem'), { name: 'bench' });
  await engine.start();
  try {
    if (SESSION_FORMAT_ASKED) {
      await engine.connection.writes.hset(
        engine.keys.meta(),
        'format',
        layoutFormat(SESSION_FORMAT_ASKED),
      );
      await engine.refreshMeta();
    }
    const before = await usedMemory(masters);
    const now = Date.now();
    const sessions: StoredSession[] = [];
    const owners: string[] = [];
    await drive(MEMORY_SESSIONS, CONCURRENCY, async (i) => {
      const user = Math.floor(i / SESSIONS_PER_USER);
      const s = newSession(engine, now, owners[user]);
      owners[user] = s.userId;
      sessions.push(s);
      await engine.create(engine.keys.shardOf(s.userId), s, 50);
    });
    // Let replicas drain the output buffers before reading.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await usedMemory(masters);
    const sample = sessions[0];
    const shard = engine.keys.shardOf(sample.userId);
    const client = engine.connection.reads;
    const recordKey = engine.keys.session(shard, sample.id);
    // MEMORY USAGE is not routed by key in ioredis: ask the record's master directly.
    const owner = await cluster.masterForKey(recordKey);
    const live = await indexStats(client, (n) => engine.keys.liveKeys(n), 'ZCARD');
    const users = await indexStats(client, (n) => engine.keys.usersKeys(n), 'HLEN');
    return {
      perSession: (after.used - before.used) / MEMORY_SESSIONS,
      backlogPerSession: (after.backlog - before.backlog) / MEMORY_SESSIONS,
      record: Number(await owner.command(['MEMORY', 'USAGE', recordKey, 'SAMPLES', '0'])),
      recordBytes: await client.strlen(recordKey),
      format: engine.sessionFormat,
      live,
      users,
    };
  } finally {
    await engine.stop();
  }
}

function describeIndex(name: string, stats: IndexStats, buckets: number): string {
  const encodings = [...stats.encodings].map(([enc, n]) => `${n} ${enc}`).join(', ');
  const million = projectedMax(1_000_000, SHARDS * buckets);
  return (
    `  ${name}: ${(stats.bytes / MEMORY_SESSIONS).toFixed(1)} B per session (MEMORY USAGE of ${stats.keys} keys, ` +
    `${(stats.bytes / stats.entries).toFixed(1)} B per entry); ${encodings}; ` +
    `entries per key: mean ${(stats.entries / stats.keys).toFixed(1)}, max ${stats.maxEntries}; ` +
    `at 1M over ${SHARDS} x ${buckets}: mean ${(1_000_000 / (SHARDS * buckets)).toFixed(0)}, max ~${million}`
  );
}

interface GetComparison {
  engine: number;
  raw: number;
  engineRates: number[];
  rawRates: number[];
}

async function benchEngine(
  cluster: RedisClusterHandle,
): Promise<{ phases: Phase[]; getRoundTrips: string; comparison: GetComparison }> {
  const masters = await masterNodes(cluster);
  const engine = new RedisEngine(settings(cluster, `hfb${randomBytes(2).toString('hex')}`), {
    name: 'bench',
  });
  await engine.start();
  try {
    const now = Date.now();
    const prefilled: StoredSession[] = [];
    await drive(PREFILL, CONCURRENCY, async () => {
      const s = newSession(engine, now);
      prefilled.push(s);
      await engine.create(engine.keys.shardOf(s.userId), s, 50);
    });
    // A request knows the shard from its cookie: no hashing on the get path. Creates hash once.
    const shardCache = new Map<string, number>();
    const shardOf = (s: StoredSession) => {
      let shard = shardCache.get(s.id);
      if (shard === undefined) shardCache.set(s.id, (shard = engine.keys.shardOf(s.userId)));
      return shard;
    };
    const pick = (i: number) => prefilled[(i * 7919) % prefilled.length];
    const phases: Phase[] = [];
    const phase = async (name: string, ops: number, op: (i: number) => Promise<unknown>) => {
      phases.push({ name, ops, seconds: await drive(ops, CONCURRENCY, op) });
    };

    // Engine GETs alternate with redis-benchmark GETs so both see the same machine load.
    const getsBefore = await commandCalls(masters, 'get');
    const scriptsBefore = await commandCalls(masters, 'evalsha');
    const getOp = async (i: number) => {
      const s = pick(i);
      if (!(await engine.get(shardOf(s), s.id, now))) throw new Error(`session ${s.id} missing`);
    };
    await drive(OPS, CONCURRENCY, getOp);
    const gets = (await commandCalls(masters, 'get')) - getsBefore;
    const scripts = (await commandCalls(masters, 'evalsha')) - scriptsBefore;
    const getRoundTrips = `${(gets / OPS).toFixed(2)} GET and ${(scripts / OPS).toFixed(2)} scripts per get`;
    const engineRates: number[] = [];
    const rawRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rawRates.push(await rawGet(cluster));
      engineRates.push(OPS / (await drive(OPS, CONCURRENCY, getOp)));
    }
    const comparison = {
      engine: median(engineRates),
      raw: median(rawRates),
      engineRates,
      rawRates,
    };

    const writes = Math.max(1, Math.floor(OPS / 4));
    await phase('touch', writes, async (i) => {
      const s = pick(i);
      const at = now + 1000 + i;
      await engine.touch(shardOf(s), s.id, at, at + 30 * MINUTE, at);
    });
    const created: StoredSession[] = [];
    await phase('create', writes, async () => {
      const s = newSession(engine, now);
      created.push(s);
      await engine.create(shardOf(s), s, 50);
    });
    await phase('revoke', writes, async (i) => {
      const s = created[i];
      if (!(await engine.revoke(shardOf(s), s.id))) throw new Error(`revoke of ${s.id} failed`);
    });
    // All four at once, in a request-like mix: mostly reads, a renewal now and then, logins.
    const mixed: StoredSession[] = [];
    await phase('mixed 90/5/3/2', OPS, async (i) => {
      const r = i % 100;
      if (r < 90) {
        const s = pick(i);
        await engine.get(shardOf(s), s.id, now);
      } else if (r < 95) {
        const s = pick(i);
        await engine.touch(shardOf(s), s.id, now + i, now + 30 * MINUTE + i, now + i);
      } else if (r < 98) {
        const s = newSession(engine, now);
        mixed.push(s);
        await engine.create(shardOf(s), s, 50);
      } else {
        const s = mixed.pop();
        if (s) await engine.revoke(shardOf(s), s.id);
      }
    });
    // The same creates with durability.replicas 1: each script is followed by WAIT 1.
    const durable = new RedisEngine(
      {
        ...settings(cluster, engine.settings.keyPrefix),
        durability: { replicas: 1, timeout: 100 },
      },
      { name: 'bench-durable' },
    );
    await durable.start();
    try {
      // On two shared cores a WAIT can miss its 100 ms: counted, not fatal to the run.
      // Past the WAIT timeout a create is kept and counted as pending (ADR 215).
      const before = durability.pending.create ?? 0;
      await phase('create, durability.replicas 1', writes, async () => {
        const s = newSession(engine, now);
        await durable.create(shardOf(s), s, 50);
      });
      const late = (durability.pending.create ?? 0) - before;
      if (late) console.log(`durable creates past the WAIT timeout: ${late} of ${writes}`);
    } finally {
      await durable.stop();
    }
    const countStarted = process.hrtime.bigint();
    const counts = await engine.count(now);
    const countMs = Number(process.hrtime.bigint() - countStarted) / 1e6;
    phases.push({
      name: `count (${counts.sessions} sessions, ${SHARDS} shards)`,
      ops: 1,
      seconds: countMs / 1000,
    });
    return { phases, getRoundTrips, comparison };
  } finally {
    await engine.stop();
  }
}

/** Keys for redis-benchmark: values of a record's size, as many keys as prefilled sessions. */
async function rawPrefill(cluster: RedisClusterHandle): Promise<void> {
  const seed = cluster.seeds[0];
  await run('redis-benchmark', [
    ...['-h', seed.host, '-p', String(seed.port), '--cluster', '-c', String(CONCURRENCY)],
    ...['-r', String(PREFILL), '-t', 'set', '-d', '140', '-n', String(PREFILL * 5), '-q'],
  ]);
}

/** `redis-benchmark -t get` on the same cluster, requests per second. */
async function rawGet(cluster: RedisClusterHandle): Promise<number> {
  const seed = cluster.seeds[0];
  const { stdout } = await run('redis-benchmark', [
    ...['-h', seed.host, '-p', String(seed.port), '--cluster', '-c', String(CONCURRENCY)],
    ...['-r', String(PREFILL), '-t', 'get', '-n', String(OPS), '--csv'],
  ]);
  const line = stdout.split('\n').find((l) => l.startsWith('"GET"'));
  if (!line) throw new Error(`unexpected redis-benchmark output:\n${stdout}`);
  return Number(JSON.parse(`[${line}]`)[1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

type Memory = Awaited<ReturnType<typeof measureMemory>>;

function printMemory(memory: Memory): void {
  const perSession = memory.perSession - memory.backlogPerSession;
  console.log(
    `\nmemory, ${MEMORY_SESSIONS} sessions (${SESSIONS_PER_USER} per user, ${RANDOM_USER_IDS ? '22' : '8'}-char user ids, IPv4), ${SHARDS} shards, session format ${memory.format}:`,
  );
  console.log(
    `  used_memory delta over masters / N: ${memory.perSession.toFixed(1)} B per session, of which ` +
      `${memory.backlogPerSession.toFixed(1)} B is replication backlog filling up (fixed 1 MB per master)`,
  );
  console.log(
    `  without the backlog: ${perSession.toFixed(1)} B per session (budget ${BUDGET_BYTES}, issue 13's target ${TARGET_BYTES})`,
  );
  console.log(
    `  MEMORY USAGE of one record: ${memory.record} B (value ${memory.recordBytes} B, device "${DEVICE}")`,
  );
  console.log(describeIndex('live index', memory.live, LIVE_BUCKETS));
  console.log(describeIndex('user index', memory.users, USER_BUCKETS));
  const indexes = (memory.live.bytes + memory.users.bytes) / MEMORY_SESSIONS;
  console.log(
    `  records (the rest: keys, TTLs, values, keyspace tables): ${(perSession - indexes).toFixed(1)} B per session`,
  );
  if (perSession > BUDGET_BYTES)
    console.log(`  OVER BUDGET by ${(perSession - BUDGET_BYTES).toFixed(0)} B`);
}

async function main(): Promise<void> {
  console.log(`holdfast store benchmark: ops ${OPS}, in flight ${CONCURRENCY}, shards ${SHARDS}`);
  const cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 1 });
  try {
    // Printed at once: the throughput phases take minutes and a failure there must not lose it.
    printMemory(await measureMemory(cluster));
    if (process.env.BENCH_MEMORY_ONLY) return;
    await rawPrefill(cluster);
    const { phases, getRoundTrips, comparison } = await benchEngine(cluster);
    const raw = comparison.raw;

    console.log('\n| operation | ops per run | ops/s | vs redis-benchmark GET |');
    console.log('|---|---:|---:|---:|');
    console.log(
      `| redis-benchmark -t get --cluster (median of ${ROUNDS}) | ${OPS} | ${fmt(raw)} | 1.00 |`,
    );
    console.log(
      `| engine get (median of ${ROUNDS}) | ${OPS} | ${fmt(comparison.engine)} | ${(comparison.engine / raw).toFixed(2)} |`,
    );
    for (const p of phases) {
      if (p.ops === 1) continue;
      const rate = p.ops / p.seconds;
      console.log(`| engine ${p.name} | ${p.ops} | ${fmt(rate)} | ${(rate / raw).toFixed(2)} |`);
    }
    console.log(
      `\nrounds: redis-benchmark ${comparison.rawRates.map(fmt).join(', ')}; engine ${comparison.engineRates.map(fmt).join(', ')}`,
    );
    for (const p of phases.filter((x) => x.ops === 1)) {
      console.log(`${p.name}: ${(p.seconds * 1000).toFixed(1)} ms`);
    }
    console.log(`get: ${getRoundTrips}`);
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
