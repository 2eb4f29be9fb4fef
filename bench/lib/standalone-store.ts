/**
 * What the store benches on one standalone Redis share (bench/capacity.ts, bench/shard-count.ts):
 * engine settings for it, a session shaped as the user stores make them, a bounded-concurrency
 * driver, and the server's CPU so far.
 */
import type { RedisSettings } from '../../src/config/settings';
import type { StoredSession } from '../../src/store/engine';
import { hashSecret, newId, newSecret } from '../../src/session/token';
import type { RedisProcess } from '../../test/harness/redis-process';

const MINUTE = 60_000;

export function standaloneSettings(port: number, keyPrefix: string, shards: number): RedisSettings {
  return {
    mode: 'standalone',
    nodes: [{ host: '127.0.0.1', port }],
    sentinelName: 'mymaster',
    tls: false,
    natMap: {},
    dnsServers: [],
    rediscoverInterval: 0,
    keyPrefix,
    shards,
    commandTimeout: 10_000,
    connectTimeout: 5000,
    durability: { replicas: 0, timeout: 100 },
    require: {
      persistence: 'any',
      replicasPerMaster: 0,
      evictionPolicies: [],
      minVersion: '6.2.0',
    },
  };
}

/** Session n: a 22-character user id (as the user stores make them) and a distinct address. */
export function benchSession(n: number, now: number): StoredSession {
  return {
    id: newId(),
    userId: newId(),
    secretHash: hashSecret(newSecret()),
    method: 'password',
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + 7 * 24 * 60 * MINUTE,
    ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    userAgent: 'Chrome 120 on Windows',
    credentialVersion: 0,
    seriesId: null,
  };
}

/** Runs op(0..ops-1) with at most `concurrency` in flight. */
export async function drive(
  ops: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ops; i = next++) await op(i);
    }),
  );
}

/** Server CPU seconds (user + sys, main thread and I/O) so far. */
export async function serverCpu(redis: RedisProcess): Promise<number> {
  const info = await redis.info('cpu');
  return Number(info.used_cpu_user) + Number(info.used_cpu_sys);
}
