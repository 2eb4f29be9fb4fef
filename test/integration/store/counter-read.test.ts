/**
 * Every shard's counter in one command per master (ADR 250, src/store/redis/counter-read.ts) on a
 * real 3+3 cluster and a standalone server: the values are those of one GET per key, a master
 * whose call fails (here: a slot map that names the wrong master) has its keys read one by one,
 * and a count over the engine agrees with the sessions stored.
 */
import { Cluster } from 'ioredis';
import { readCounters } from '../../../src/store/redis/counter-read';
import { hashSlot } from '../../../src/store/redis/hash-slot';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { getProvider, type RedisClusterHandle, type RedisNode } from '../../harness';
import { freeze } from '../../support/freeze';
import { newUserId, redisSettings, session, stored } from '../../support/store-fixtures';

const provider = getProvider();
const SHARDS = 256;

/** Calls of `command` summed over `nodes` (INFO commandstats). */
async function calls(nodes: RedisNode[], command: string): Promise<number> {
  let n = 0;
  for (const node of nodes) {
    const stat = (await node.info('commandstats'))[`cmdstat_${command}`];
    n += Number(/calls=(\d+)/.exec(stat ?? '')?.[1] ?? 0);
  }
  return n;
}

/** Counters set on every third shard ("entries users due"), the others missing. */
async function seed(engine: RedisEngine): Promise<{ keys: string[]; want: (string | null)[] }> {
  const keys = Array.from({ length: SHARDS }, (_, shard) => engine.keys.counter(shard));
  const want = keys.map((_, shard) =>
    shard % 3 === 0 ? `${shard} ${shard + 1} ${1000 + shard}` : null,
  );
  const { writes } = engine.connection;
  await Promise.all(
    keys.map((key, i) => (want[i] === null ? writes.del(key) : writes.set(key, want[i]!))),
  );
  return { keys, want };
}

describe('readCounters on a cluster (3 masters, 3 replicas)', () => {
  let cluster: RedisClusterHandle;
  let masters: RedisNode[];
  let engine: RedisEngine;

  beforeAll(async () => {
    cluster = await provider.cluster({ masters: 3, replicasPerMaster: 1 });
    masters = (await cluster.masters()).map((m) => m.node!);
    engine = new RedisEngine(
      redisSettings({ mode: 'cluster', nodes: cluster.seeds, shards: SHARDS }),
    );
    await engine.start();
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    await cluster?.stop();
  });

  it('reads 256 counters with one call per master and no GET of its own', async () => {
    const { keys, want } = await seed(engine);
    const reads = engine.connection.reads;
    const one: string[] = [];
    const scripts = (await calls(masters, 'evalsha')) + (await calls(masters, 'eval'));
    const got = await readCounters(reads, keys, async (key) => {
      one.push(key);
      return reads.get(key);
    });
    expect(got).toEqual(want);
    expect(one).toEqual([]);
    const after = (await calls(masters, 'evalsha')) + (await calls(masters, 'eval'));
    // One EVALSHA per master (an EVAL more where the script was not loaded yet).
    expect(after - scripts).toBeGreaterThanOrEqual(3);
    expect(after - scripts).toBeLessThanOrEqual(6);
  });

  it('reads the keys of a master whose call fails one by one, with the same answer', async () => {
    const { keys, want } = await seed(engine);
    const reads = engine.connection.reads as Cluster;
    // A slot map that sends shard 0's slot to another master: the script meets a key that
    // master does not serve, fails as a whole, and that group is read by `one`.
    const slot = hashSlot(keys[0]);
    const owner = reads.slots[slot];
    const other = reads.slots.find((nodes) => nodes && nodes[0] !== owner[0])!;
    reads.slots[slot] = other;
    const one: string[] = [];
    try {
      // Read through the other client, whose slot map is right.
      const got = await readCounters(reads, keys, async (key) => {
        one.push(key);
        return engine.connection.writes.get(key);
      });
      expect(got).toEqual(want);
    } finally {
      reads.slots[slot] = owner;
    }
    expect(one).toContain(keys[0]);
    // Only the group the wrong master was asked for: the other masters answered for theirs.
    expect(one.length).toBeGreaterThan(0);
    expect(one.length).toBeLessThan(SHARDS);
  });

  it('a frozen master fails the read at its timeout: its keys are not asked for again one by one', async () => {
    const own = new RedisEngine(
      redisSettings({ mode: 'cluster', nodes: cluster.seeds, shards: SHARDS, commandTimeout: 600 }),
    );
    await own.start();
    const { keys } = await seed(own);
    const owner = await cluster.masterForKey(keys[0]);
    const ownerSlots = new Set(
      (await cluster.masters())
        .find((m) => m.node === owner)!
        .slots.flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)),
    );
    const one: string[] = [];
    const thaw = freeze([owner]);
    try {
      const reads = own.connection.reads;
      await expect(
        readCounters(reads, keys, async (key) => {
          one.push(key);
          return reads.get(key);
        }),
      ).rejects.toThrow(/timed out/);
      // The per-key path would wait a second timeout on the same frozen master.
      expect(one.filter((key) => ownerSlots.has(hashSlot(key)))).toEqual([]);
    } finally {
      thaw();
      await own.stop();
    }
  });

  it('a count over the engine agrees with the sessions stored', async () => {
    const own = new RedisEngine(
      redisSettings({ mode: 'cluster', nodes: cluster.seeds, shards: SHARDS }),
    );
    await own.start();
    try {
      const now = Date.now();
      const users = Array.from({ length: 40 }, () => newUserId());
      for (const userId of users) {
        await own.create(own.keys.shardOf(userId), stored(session(userId, now)), 5);
      }
      await own.create(own.keys.shardOf(users[0]), stored(session(users[0], now)), 5);
      expect(await own.count(now)).toMatchObject({ sessions: 41, users: 40 });
    } finally {
      await own.stop();
    }
  });
});

describe('readCounters on one server', () => {
  let server: RedisNode;
  let engine: RedisEngine;

  beforeAll(async () => {
    server = await provider.standalone();
    engine = new RedisEngine(
      redisSettings({ nodes: [{ host: server.host, port: server.port }], shards: SHARDS }),
    );
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await server?.destroy();
  });

  it('reads every counter with one MGET', async () => {
    const { keys, want } = await seed(engine);
    const before = await calls([server], 'mget');
    const gets = await calls([server], 'get');
    expect(
      await readCounters(engine.connection.reads, keys, () => Promise.reject(new Error('no'))),
    ).toEqual(want);
    expect((await calls([server], 'mget')) - before).toBe(1);
    expect((await calls([server], 'get')) - gets).toBe(0);
  });
});
