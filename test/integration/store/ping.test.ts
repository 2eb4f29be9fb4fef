/**
 * Readiness's store ping on a real Redis Cluster (ADR 240): one frozen master is a fault every
 * node shares, so the ping still passes while another master answers; with every master frozen it
 * fails as StoreUnavailableError, and passes again once they answer.
 */
import { StoreUnavailableError } from '../../../src/errors';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { startCluster, type LocalCluster } from '../../harness';
import { freeze } from '../../support/freeze';
import { redisSettings } from '../../support/store-fixtures';

jest.setTimeout(60_000);

const COMMAND_TIMEOUT = 500;

let cluster: LocalCluster | undefined;
let engine: RedisEngine | undefined;
const thaws: Array<() => void> = [];

afterAll(async () => {
  for (const thaw of thaws) thaw();
  await engine?.stop();
  await cluster?.stop();
});

it('passes while any master answers, fails when none does', async () => {
  cluster = await startCluster({ masters: 3, replicasPerMaster: 0 });
  engine = new RedisEngine(
    redisSettings({ mode: 'cluster', nodes: cluster.seeds, commandTimeout: COMMAND_TIMEOUT }),
    { name: 'holdfast-ping' },
  );
  await engine.start();
  await engine.ping();
  const masters = await cluster.masters();
  const nodes = masters.map((view) => cluster!.nodeAt(view));

  const thawOne = freeze([nodes[0]]);
  thaws.push(thawOne);
  const started = Date.now();
  await engine.ping();
  // Answered by the healthy masters, without waiting out the frozen one's commandTimeout.
  expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT);

  const thawRest = freeze(nodes.slice(1));
  thaws.push(thawRest);
  await expect(engine.ping()).rejects.toBeInstanceOf(StoreUnavailableError);

  thawOne();
  thawRest();
  await engine.ping();
});
