/**
 * An operator adds a master under load: `redis-cli --cluster add-node` a 4th master, then
 * `rebalance --cluster-use-empty-masters`, while 40 loops of signed-in users read, renew and
 * create sessions and read their accounts. Every request succeeds (0 × 503) and no session is
 * lost; holdfast_store_unavailable_total does not move. The new master gets a quarter of a
 * master's share (weight 0.25: ~1,260 of 16,384 slots, among them ~1/13 of the 256 session
 * slots), so the rebalance stays well inside its 60 s timeout on two cores loaded by other jobs
 * (there a full rebalance took 21-39 s, weight 0.5 took 10-39 s). Each slot still
 * moves under the same load as in a full rebalance.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { storeUnavailable } from '../../../src/store';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { RedisUserStore } from '../../../src/users/redis-user-store';
import { getProvider, notYet, waitUntil, type RedisClusterHandle } from '../../harness';
import { startRedis, type RedisProcess } from '../../harness/redis-process';
import { MINUTE, newUserId, redisSettings, session, stored } from '../../support/store-fixtures';

const run = promisify(execFile);
/**
 * Above the sessions one user can reach here: with the usual 50, a fast run (>~50k rounds: 10k
 * creates over 200 users) evicted each user's oldest session, which this test then read as lost.
 */
const MAX_PER_USER = 10_000;
const provider = getProvider();

describe('adding a master and rebalancing under load', () => {
  let cluster: RedisClusterHandle;
  let extra: RedisProcess | undefined;
  let engine: RedisEngine | undefined;

  beforeAll(async () => {
    cluster = await provider.cluster({ masters: 3, replicasPerMaster: 0 });
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    await extra?.destroy();
    await cluster?.stop();
  });

  it('answers every request (0 × 503) and keeps every session', async () => {
    engine = new RedisEngine(redisSettings({ mode: 'cluster', nodes: cluster.seeds, shards: 256 }));
    await engine.start();
    const e = engine;
    const users = new RedisUserStore(() => e.connection.reads, e.keys.prefix);
    const people = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const userId = newUserId();
        const shard = e.keys.shardOf(userId);
        const s = session(userId, Date.now());
        expect(await e.create(shard, stored(s), MAX_PER_USER)).toEqual([]);
        const account = await users.create({ email: `${userId}@example.test`, passwordHash: null });
        return { userId, shard, s, account, extra: [] as string[] };
      }),
    );
    const before = Object.values(storeUnavailable.counts).reduce((a, b) => a + b, 0);

    const seed = cluster.seeds[0];
    const existing = `${seed.host}:${seed.port}`;
    extra = await startRedis({
      clusterPorts: true,
      extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
    });
    await run('redis-cli', ['--cluster', 'add-node', `${extra.host}:${extra.port}`, existing], {
      timeout: 20_000,
    });

    // Every node must know the new one before rebalance counts it (gossip takes a moment).
    const port = extra.port;
    await waitUntil(
      'every node knows the new master',
      async () => {
        for (const node of cluster.nodes) {
          const text = String(await node.command(['CLUSTER', 'NODES']));
          const line = text.split('\n').find((l) => l.includes(`:${port}@`));
          if (!line || /handshake|noaddr/.test(line))
            return notYet(`node ${node.port} does not know ${port} yet`);
        }
        // The new node refuses imports (CLUSTERDOWN) until it sees the cluster as ok.
        const info = String(await extra?.command(['CLUSTER', 'INFO']));
        return info.includes('cluster_state:ok') ? true : notYet('new node: cluster_state not ok');
      },
      { timeoutMs: 15_000 },
    );

    const newId = String(await extra.command(['CLUSTER', 'MYID']));
    const failures: string[] = [];
    let requests = 0;
    let failed = 0;
    let stop = false;
    const loop = async (i: number) => {
      for (let n = 0; !stop; n++) {
        const p = people[(i * 31 + n) % people.length];
        const now = Date.now();
        try {
          const got = await e.get(p.shard, p.s.id, now);
          if (!got) throw new Error(`lost ${p.s.id}`);
          if (n % 3 === 0) {
            if (!(await e.touch(p.shard, p.s.id, now, now + 30 * MINUTE, now)))
              throw new Error(`touch lost ${p.s.id}`);
          }
          if (n % 5 === 0) {
            const s = session(p.userId, now);
            const evicted = await e.create(p.shard, stored(s), MAX_PER_USER);
            if (evicted?.length !== 0) throw new Error(`create evicted ${String(evicted)}`);
            p.extra.push(s.id);
          }
          if (n % 4 === 0 && (await users.findById(p.account.id))?.id !== p.account.id)
            throw new Error(`user lost ${p.account.id}`);
          requests++;
        } catch (err) {
          failed++;
          if (failures.length < 20) failures.push((err as Error).message);
        }
        // Yield to I/O each round: a store that fails at once must not starve the event loop.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const loops = Array.from({ length: 40 }, (_, i) => loop(i));
    const started = Date.now();
    const rebalance = await run(
      'redis-cli',
      [
        '--cluster',
        'rebalance',
        existing,
        '--cluster-use-empty-masters',
        '--cluster-weight',
        `${newId}=0.25`,
      ],
      { timeout: 60_000 },
    ).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`.slice(-3000));
    });
    const ms = Date.now() - started;
    stop = true;
    await Promise.all(loops);

    expect(rebalance.stdout).toContain('Moving');
    // Sessions did move: the new master holds some of them.
    expect(Number(await extra.command(['DBSIZE']))).toBeGreaterThan(0);
    console.log(
      `rebalance ${ms} ms, ${requests} request rounds, ${failed} failures`,
      failures.slice(0, 5),
    );
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(100);
    // Every session still reads back (the users concurrently: up to ~10k sessions).
    const missing = await Promise.all(
      people.map(async (p) => {
        const gone: string[] = [];
        for (const id of [p.s.id, ...p.extra])
          if (!(await e.get(p.shard, id, Date.now()))) gone.push(id);
        return gone;
      }),
    );
    expect(missing.flat()).toEqual([]);
    const after = Object.values(storeUnavailable.counts).reduce((a, b) => a + b, 0);
    expect(after - before).toBe(0);
  }, 90_000);
});
