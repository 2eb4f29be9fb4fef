/** The test app (app.ts) on a real Redis Cluster from the harness, for the shared suites. */
import { RedisEngine } from '../../src/store';
import { getProvider, RedisClusterHandle } from '../harness';
import type { ClusterOptions } from '../harness';
import { buildTestApp, TestApp, testSettings } from './app';

/**
 * `build` starts a cluster of this shape, a Redis engine on it and the app (no pages); `stop`
 * stops all three, whatever part of `build` got done. One build at a time.
 */
export function clusterApp(shape: Pick<ClusterOptions, 'masters' | 'replicasPerMaster'>): {
  build: () => Promise<TestApp>;
  stop: (app: TestApp | undefined) => Promise<void>;
} {
  let cluster: RedisClusterHandle | undefined;
  let engine: RedisEngine | undefined;
  return {
    build: async () => {
      cluster = await getProvider().cluster(shape);
      const settings = testSettings({
        store: {
          type: 'redis',
          redis: { mode: 'cluster', nodes: cluster.seeds.map((s) => `${s.host}:${s.port}`) },
        },
      });
      engine = new RedisEngine(settings.store.redis);
      await engine.start();
      return buildTestApp({ settings, engine, pages: false });
    },
    stop: async (app) => {
      await app?.server.stop();
      await engine?.stop();
      await cluster?.stop();
    },
  };
}
