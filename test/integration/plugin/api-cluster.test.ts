import { getProvider, RedisClusterHandle } from '../../harness';
import { RedisEngine } from '../../../src/store';
import { apiSuite } from '../../unit/plugin/api-suite';
import { buildTestApp, testSettings } from '../../unit/plugin/helpers';

jest.setTimeout(120_000);

let cluster: RedisClusterHandle;
let engine: RedisEngine;

apiSuite(
  'Redis Cluster 3+3',
  async () => {
    cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 1 });
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
  async (app) => {
    await app.server.stop();
    await engine?.stop();
    await cluster?.stop();
  },
);
