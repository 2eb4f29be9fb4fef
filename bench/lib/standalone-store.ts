/**
 * What the store benches on one standalone Redis share (bench/capacity.ts, bench/shard-count.ts):
 * engine settings for it and the server's CPU so far (sessions and the driver: ./sessions.ts).
 */
import type { RedisSettings } from '../../src/config/settings';
import type { RedisProcess } from '../../test/harness/redis-process';

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

/** Server CPU seconds (user + sys, main thread and I/O) so far. */
export async function serverCpu(redis: RedisProcess): Promise<number> {
  const info = await redis.info('cpu');
  return Number(info.used_cpu_user) + Number(info.used_cpu_sys);
}
