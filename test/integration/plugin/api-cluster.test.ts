import { apiSuite } from '../../support/suites/api-suite';
import { clusterApp } from '../../support/cluster-app';

jest.setTimeout(120_000);

const onCluster = clusterApp({ masters: 3, replicasPerMaster: 1 });

apiSuite('Redis Cluster 3+3', onCluster.build, onCluster.stop);
