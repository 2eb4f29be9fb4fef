/**
 * A node that serves no slot (a master removed with `redis-cli --cluster del-node`, which resets
 * it) answers CLUSTER SLOTS with an empty list. ioredis picks a random pool node to refresh its
 * slot map from and replaced its whole pool with that reply's nodes: every connection dropped and
 * every request failed until it reconnected from its seeds (drain-master.test.ts: ~200 × 503
 * after del-node). The engine's clients skip such a node (connection.ts skipEmptySlotMaps).
 */
import { Cluster } from 'ioredis';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { getProvider, type RedisClusterHandle } from '../../harness';
import { startRedis, type RedisProcess } from '../../harness/redis-process';
import { newUserId, redisSettings, session, stored } from '../../support/store-fixtures';

interface Pool {
  connectionPool: { findOrCreate(node: { host: string; port: number }): unknown };
}

describe('a node that serves no slot in the client pool', () => {
  let cluster: RedisClusterHandle;
  let empty: RedisProcess | undefined;
  let engine: RedisEngine | undefined;

  beforeAll(async () => {
    cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 0 });
    // Cluster-enabled, joined to nothing: CLUSTER SLOTS is [], as on a node del-node reset.
    empty = await startRedis({
      clusterPorts: true,
      extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
    });
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    await empty?.destroy();
    await cluster?.stop();
  });

  it('is never taken as the slot map: every refresh keeps the client ready', async () => {
    const e = new RedisEngine(redisSettings({ mode: 'cluster', nodes: cluster.seeds, shards: 16 }));
    engine = e;
    await e.start();
    const x = empty as RedisProcess;
    expect(await x.command(['CLUSTER', 'SLOTS'])).toEqual([]);
    const userId = newUserId();
    const shard = e.keys.shardOf(userId);
    const s = session(userId, Date.now());
    await e.create(shard, stored(s), 50);
    for (const client of [e.connection.reads, e.connection.writes] as Cluster[]) {
      // ioredis shuffles the pool for each refresh: with 1 node in 4 empty, 30 refreshes pick it
      // first at least once but for a chance of 0.75^30 (2e-4).
      for (let i = 0; i < 30; i++) {
        (client as unknown as Pool).connectionPool.findOrCreate({ host: x.host, port: x.port });
        await new Promise<void>((resolve, reject) =>
          (
            client as unknown as { refreshSlotsCache(cb: (err?: Error) => void): void }
          ).refreshSlotsCache((err) => (err ? reject(err) : resolve())),
        );
        expect(client.status).toBe('ready');
        expect(client.nodes('master')).toHaveLength(3);
      }
    }
    expect((await e.get(shard, s.id, Date.now()))?.id).toBe(s.id);
  });
});
