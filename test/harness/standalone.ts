/** A single Redis server (AOF on, no RDB snapshots unless asked). */
import { RedisProcess, startRedis } from './redis-process';
import type { StandaloneOptions } from './types';

/**
 * Starts one server on a free loopback port in its own temp dir. Stop it with destroy()
 * (stop + remove the dir); restart() keeps the dir, so the AOF is reloaded.
 */
export function startStandalone(
  extraArgs: string[] = [],
  opts: Omit<StandaloneOptions, 'extraArgs'> = {},
): Promise<RedisProcess> {
  return startRedis({ ...opts, extraArgs });
}
