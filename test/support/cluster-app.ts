/** The test app (app.ts) on a real Redis Cluster from the harness, for the shared suites. */
import { getProvider, RedisClusterHandle } from '../harness';
import type { ClusterOptions } from '../harness';
import { buildRedisTestApp, RedisTestApp, TestApp, testSettings } from './app';
import { seedList } from './seeds';

/**
 * `build` starts a cluster of this shape, a Redis engine on it and the app (no pages); `stop`
 * stops all three, whatever part of `build` got done. One build at a time.
 */
export function clusterApp(shape: Pick<ClusterOptions, 'masters' | 'replicasPerMaster'>): {
  build: () => Promise<TestApp>;
  stop: (app: TestApp | undefined) => Promise<void>;
} {
  let cluster: RedisClusterHandle | undefined;
  let built: RedisTestApp | undefined;
  return {
    build: async () => {
      cluster = await getProvider().cluster(shape);
      const settings = testSettings({
        store: { type: 'redis', redis: { mode: 'cluster', nodes: seedList(cluster) } },
      });
      built = await buildRedisTestApp(settings, { pages: false });
      return built;
    },
    // The suites hand back the app `build` returned: the one kept here, with its engine.
    stop: async () => {
      await built?.stop();
      await cluster?.stop();
    },
  };
}
