import { RedisUserStore } from '../../../src/users';
import { clusterApp } from '../../support/cluster-app';
import { scopeSuite } from '../../support/suites/scope-suite';

jest.setTimeout(120_000);

const onCluster = clusterApp({ masters: 3, replicasPerMaster: 0 });

scopeSuite(
  'Redis Cluster 3+0',
  async () => {
    const app = await onCluster.build();
    // The roles really live in Redis: the composition root picked the Redis user store.
    expect(app.users).toBeInstanceOf(RedisUserStore);
    return app;
  },
  onCluster.stop,
);
