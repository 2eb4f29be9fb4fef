/**
 * The default shard count from measurements (ADR 260, issue 15 item 4): for 256, 1024 and 4096
 * shards on one standalone Redis started here, with the same N sessions, Redis memory per session
 * (used_memory delta / N), a count's time and server CPU (one GET per shard, ADR 180), and a
 * sweep's with nothing due (one GET per shard, the lease holder's every second, ADR 230); then a
 * split of the 256-shard data to 1024 (`holdfast store reshard`'s work: users moved per second).
 * The balance side is computed (balanceReport over equal slot ranges, and ⌈S/N⌉/(S/N) after
 * `holdfast store balance`). Compare figures within one run (2 shared cores).
 * Run: node -r ts-node/register/transpile-only bench/shard-count.ts
 * Environment: BENCH_SHARD_SESSIONS (default 50000).
 */
import { KeyLayout } from '../src/store/keys';
import { balanceReport, type MasterSlots } from '../src/store/redis/balance';
import { shardSlots } from '../src/store/redis/hash-slot';
import { RedisEngine } from '../src/store/redis/redis-engine';
import { reshard } from '../src/store/redis/resharder';
import { benchSession, drive } from './lib/sessions';
import { serverCpu, standaloneSettings } from './lib/standalone-store';
import { startRedis, type RedisProcess } from '../test/harness/redis-process';

const SESSIONS = Number(process.env.BENCH_SHARD_SESSIONS ?? 50_000);
const COUNTS = [256, 1024, 4096];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median client ms and mean server CPU ms of `times` runs of `op`. */
async function timed(redis: RedisProcess, times: number, op: () => Promise<unknown>) {
  const ms: number[] = [];
  let server = 0;
  for (let i = 0; i < times; i++) {
    const c0 = await serverCpu(redis);
    const t0 = process.hrtime.bigint();
    await op();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    server += (await serverCpu(redis)) - c0;
  }
  return {
    ms: Number(median(ms).toFixed(2)),
    serverMs: Number(((server / times) * 1000).toFixed(2)),
  };
}

/** Masters holding equal contiguous slot ranges. */
function evenMasters(n: number): MasterSlots[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `m${i}`,
    address: `m${i}`,
    ranges: [[Math.floor((i * 16384) / n), Math.floor(((i + 1) * 16384) / n) - 1]],
  }));
}

async function main() {
  const redis = await startRedis({ appendonly: false, extraArgs: ['--save', ''] });
  const out: Record<string, unknown> = { sessions: SESSIONS };
  try {
    for (const shards of COUNTS) {
      const engine = new RedisEngine(standaloneSettings(redis.port, `sc${shards}`, shards), {
        name: 'sc',
      });
      await engine.start();
      await engine.meta();
      const before = Number((await redis.info('memory')).used_memory);
      const now = Date.now();
      await drive(SESSIONS, 100, async (i) => {
        const s = benchSession(i, now, { format: engine.sessionFormat });
        await engine.create(engine.keys.shardOf(s.userId), s, 50);
      });
      const after = Number((await redis.info('memory')).used_memory);
      await engine.sweep(Date.now()); // builds counters that no write made yet
      const count = await timed(redis, 20, async () => {
        const c = await engine.count(Date.now());
        if (c.sessions !== SESSIONS) throw new Error(`count ${c.sessions}, expected ${SESSIONS}`);
      });
      const sweep = await timed(redis, 20, () => engine.sweep(Date.now()));
      const keys = Number(await redis.command(['DBSIZE']));
      const figures: Record<string, unknown> = {
        bytesPerSession: Number(((after - before) / SESSIONS).toFixed(1)),
        keys,
        count,
        sweep,
      };
      if (shards === 256) {
        const t0 = process.hrtime.bigint();
        let moved = 0;
        await reshard(engine, 1024, { announceWaitMs: 0, onProgress: (p) => (moved = p.moved) });
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        figures.split256to1024 = {
          usersMoved: moved,
          seconds: Number(seconds.toFixed(1)),
          usersPerSecond: Math.round(moved / seconds),
          countAfter: (await engine.count(Date.now())).sessions,
        };
      }
      out[`shards${shards}`] = figures;
      await engine.stop();
      await redis.command(['FLUSHALL']);
    }
  } finally {
    await redis.destroy();
  }
  const balance: Record<string, string> = {};
  for (const shards of COUNTS) {
    const slots = shardSlots(new KeyLayout('hf', shards));
    balance[shards] = [10, 20, 50, 100]
      .map((n) => {
        const even = balanceReport(slots, evenMasters(n)).ratio;
        const balanced = Math.ceil(shards / n) / (shards / n);
        return `${n}: ${even.toFixed(2)} / ${balanced.toFixed(2)}`;
      })
      .join(', ');
  }
  out.busiestOverMean_slotsEven_vs_storeBalance = balance;
  console.log(JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
