import { getProvider, RedisClusterHandle } from '../../harness';
import { RedisEngine } from '../../../src/store';
import { testSettings } from '../../support/app';
import { verificationSuite } from './email-verification-suite';

jest.setTimeout(180_000);

let cluster: RedisClusterHandle | undefined;

const store = () => ({
  store: {
    type: 'redis',
    redis: { mode: 'cluster', nodes: cluster!.seeds.map((s) => `${s.host}:${s.port}`) },
  },
});

verificationSuite('Redis Cluster', {
  engine: async () => {
    cluster ??= await getProvider().cluster({ masters: 3, replicasPerMaster: 0 });
    const engine = new RedisEngine(testSettings(store()).store.redis);
    await engine.start();
    return engine;
  },
  store: () => store(),
  teardown: async () => {
    await cluster?.stop();
  },
});
