/**
 * Capacity points for docs/capacity.md (issue 15 item 5), on one standalone Redis started here
 * (no replication backlog, no other traffic): bytes per session (used_memory delta / N, and
 * MEMORY USAGE of one record), the server's CPU per engine operation (INFO cpu and commandstats
 * around each phase: what limits ops/s per master, not this client), and the cost of a count
 * for 256 and 1024 shards. Run: node -r ts-node/register/transpile-only bench/capacity.ts
 * Environment: CAPACITY_SESSIONS (default 100000), CAPACITY_OPS (default 50000).
 */
import { RedisEngine } from '../src/store/redis/redis-engine';
import type { StoredSession } from '../src/store/engine';
import { benchSession, drive, MINUTE } from './lib/sessions';
import { serverCpu, standaloneSettings } from './lib/standalone-store';
import { startRedis, type RedisProcess } from '../test/harness/redis-process';

const SESSIONS = Number(process.env.CAPACITY_SESSIONS ?? 100_000);
const OPS = Number(process.env.CAPACITY_OPS ?? 50_000);

/** µs of server CPU per operation over a phase, and commandstats' own µs per call. */
async function phase(redis: RedisProcess, ops: number, op: (i: number) => Promise<unknown>) {
  await redis.command(['CONFIG', 'RESETSTAT']);
  const before = await serverCpu(redis);
  const started = process.hrtime.bigint();
  await drive(ops, 100, op);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = (await serverCpu(redis)) - before;
  const stats = await redis.info('commandstats');
  const perCall = Object.fromEntries(
    Object.entries(stats).map(([k, v]) => [
      k.replace('cmdstat_', ''),
      Number(/usec_per_call=([\d.]+)/.exec(v)?.[1]),
    ]),
  );
  return {
    clientOpsPerSecond: Math.round(ops / seconds),
    serverUsPerOp: Number(((used * 1e6) / ops).toFixed(1)),
    commandUsPerCall: perCall,
  };
}

async function main() {
  const redis = await startRedis({ appendonly: false, extraArgs: ['--save', ''] });
  try {
    const out: Record<string, unknown> = { sessions: SESSIONS, ops: OPS };
    for (const shards of [256, 1024]) {
      const engine = new RedisEngine(standaloneSettings(redis.port, `cap${shards}`, shards), {
        name: 'cap',
      });
      await engine.start();
      const before = Number((await redis.info('memory')).used_memory);
      const now = Date.now();
      const sessions: StoredSession[] = [];
      await drive(SESSIONS, 100, async (i) => {
        const s = benchSession(i, now, { format: engine.sessionFormat });
        sessions.push(s);
        await engine.create(engine.keys.shardOf(s.userId), s, 50);
      });
      const after = Number((await redis.info('memory')).used_memory);
      const first = sessions[0];
      const recordKey = engine.keys.session(engine.keys.shardOf(first.userId), first.id);
      const counts: number[] = [];
      let countServerUs = 0;
      for (let i = 0; i < 5; i++) {
        const c0 = await serverCpu(redis);
        const t0 = process.hrtime.bigint();
        const c = await engine.count(Date.now());
        counts.push(Number(process.hrtime.bigint() - t0) / 1e6);
        countServerUs += ((await serverCpu(redis)) - c0) * 1e6;
        if (c.sessions !== SESSIONS) throw new Error(`count ${c.sessions}, expected ${SESSIONS}`);
      }
      const pick = (i: number) => sessions[(i * 7919) % sessions.length];
      const figures: Record<string, unknown> = {
        bytesPerSession: Number(((after - before) / SESSIONS).toFixed(1)),
        recordMemoryUsage: Number(
          await redis.command(['MEMORY', 'USAGE', recordKey, 'SAMPLES', '0']),
        ),
        countMs: counts.map((n) => Number(n.toFixed(1))),
        countServerMs: Number((countServerUs / 5 / 1000).toFixed(1)),
      };
      if (shards === 256) {
        figures.get = await phase(redis, OPS, (i) => {
          const s = pick(i);
          return engine.get(engine.keys.shardOf(s.userId), s.id, Date.now());
        });
        figures.touch = await phase(redis, OPS, (i) => {
          const s = pick(i);
          const t = Date.now();
          return engine.touch(engine.keys.shardOf(s.userId), s.id, t, t + 30 * MINUTE, t);
        });
        figures.create = await phase(redis, Math.floor(OPS / 5), (i) => {
          const s = benchSession(SESSIONS + i, Date.now(), { format: engine.sessionFormat });
          return engine.create(engine.keys.shardOf(s.userId), s, 50);
        });
      }
      out[`shards${shards}`] = figures;
      await engine.stop();
      await redis.command(['FLUSHALL']);
    }
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await redis.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
