import { getProvider, RedisClusterHandle } from '../../harness';
import { RedisEngine } from '../../../src/store';
import { RedisUserStore } from '../../../src/users';
import { buildTestApp, testSettings } from '../../unit/plugin/helpers';
import { scopeSuite } from '../../unit/auth/scope-suite';

jest.setTimeout(120_000);

let cluster: RedisClusterHandle;
let engine: RedisEngine;

scopeSuite(
  'Redis Cluster 3+0',
  async () => {
    cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 0 });
    const settings = testSettings({
      store: {
        type: 'redis',
        redis: { mode: 'cluster', nodes: cluster.seeds.map((s) => `${s.host}:${s.port}`) },
      },
    });
    engine = new RedisEngine(settings.store.redis);
    await engine.start();
    const app = await buildTestApp({ settings, engine, pages: false });
    // The roles really live in Redis: the composition root picked the Redis user store.
    expect(app.users).toBeInstanceOf(RedisUserStore);
    return app;
  },
  async (app) => {
    await app.server.stop();
    await engine?.stop();
    await cluster?.stop();
  },
);
