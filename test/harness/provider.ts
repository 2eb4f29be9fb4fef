/**
 * Where test Redis deployments come from. Tests ask getProvider() and use only the
 * provider-neutral handles in types.ts, so the source of servers can change without touching
 * them. Today there is one provider, local child processes. A testcontainers provider (11.x:
 * 12.x needs Node >= 22.19) can be added later as another RedisProvider and selected here,
 * e.g. by HOLDFAST_REDIS_PROVIDER; its nodes would map stop/kill9/restart onto containers.
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

const providers: Record<string, RedisProvider> = { local: localProvider };

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
