/**
 * Where test Redis deployments come from. Tests ask getProvider() and use only the
 * provider-neutral handles in types.ts, so the source of servers can change without touching
 * them. HOLDFAST_REDIS_PROVIDER picks one: 'local' (default) runs redis-server child
 * processes; 'containers' runs each server in a container through testcontainers
 * (containers.ts), for contributors with Docker and no local redis-server.
 */
import { startCluster } from './cluster';
import { startSentinelSet } from './sentinel';
import { startStandalone } from './standalone';
import type {
  ClusterOptions,
  RedisClusterHandle,
  RedisNode,
  RedisSentinelHandle,
  SentinelOptions,
  StandaloneOptions,
} from './types';

export interface RedisProvider {
  readonly name: string;
  standalone(opts?: StandaloneOptions): Promise<RedisNode>;
  cluster(opts?: ClusterOptions): Promise<RedisClusterHandle>;
  sentinel(opts?: SentinelOptions): Promise<RedisSentinelHandle>;
}

/** redis-server child processes on 127.0.0.1, one temp dir each. */
export const localProvider: RedisProvider = {
  name: 'local',
  standalone: (opts = {}) => startStandalone(opts.extraArgs ?? [], opts),
  cluster: (opts) => startCluster(opts),
  sentinel: (opts) => startSentinelSet(opts),
};

/**
 * Standalone servers, clusters and Sentinel sets in containers (docs/testing.md). containers.ts is loaded on
 * first use, so the local provider never loads testcontainers.
 */
export const containersProvider: RedisProvider = {
  name: 'containers',
  standalone: async (opts = {}) => (await import('./containers')).startContainerRedis(opts),
  cluster: async (opts) => (await import('./containers')).startContainerCluster(opts),
  sentinel: async (opts) => (await import('./containers')).startContainerSentinelSet(opts),
};

const providers: Record<string, RedisProvider> = {
  local: localProvider,
  containers: containersProvider,
};

/** The provider named by HOLDFAST_REDIS_PROVIDER (default 'local'). */
export function getProvider(): RedisProvider {
  const name = process.env.HOLDFAST_REDIS_PROVIDER ?? 'local';
  const provider = providers[name];
  if (!provider) {
    throw new Error(
      `HOLDFAST_REDIS_PROVIDER=${name} is not a test Redis provider; known: ${Object.keys(providers).join(', ')}`,
    );
  }
  return provider;
}
