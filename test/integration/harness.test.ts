/**
 * The real-Redis harness itself: standalone, cluster and sentinel deployments start, are
 * configured as promised, survive what fault tests will do to them, and ioredis can use them.
 */
import Redis, { Cluster } from 'ioredis';
import {
  getProvider,
  keySlot,
  notYet,
  parseInfo,
  SLOT_COUNT,
  tagsForEverySlot,
  waitUntil,
  type ClusterNodeView,
  type RedisClusterHandle,
  type RedisNode,
  type RedisSentinelHandle,
} from '../harness';

const provider = getProvider();

/** ioredis reports connection errors as events; the tests assert on command results instead. */
function quiet<T extends Redis | Cluster>(client: T): T {
  client.on('error', () => undefined);
  return client;
}

function nodeOf(view: ClusterNodeView): RedisNode {
  if (!view.node) throw new Error(`${view.host}:${view.port} is not a harness node`);
  return view.node;
}

describe('standalone', () => {
  let server: RedisNode;
  let client: Redis;

  beforeAll(async () => {
    server = await provider.standalone();
    client = quiet(new Redis({ host: server.host, port: server.port, lazyConnect: true }));
  });

  afterAll(async () => {
    client?.disconnect();
    await server?.destroy();
  });

  it('answers PING on loopback', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(await client.ping()).toBe('PONG');
    expect(await server.isAlive()).toBe(true);
  });

  it('runs with AOF on and RDB snapshots off', async () => {
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
  });

  it('passes extra arguments through, --requirepass included', async () => {
    const secured = await provider.standalone({
      extraArgs: ['--requirepass', 's3cret', '--maxmemory-policy', 'volatile-lru'],
    });
    try {
      const anonymous = quiet(
        new Redis({ host: secured.host, port: secured.port, lazyConnect: true }),
      );
      await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/);
      anonymous.disconnect();
      const authed = new Redis({ host: secured.host, port: secured.port, password: 's3cret' });
      expect(await authed.config('GET', 'maxmemory-policy')).toEqual([
        'maxmemory-policy',
        'volatile-lru',
      ]);
      authed.disconnect();
    } finally {
      await secured.destroy();
    }
  });

  it('reloads the AOF after kill -9 and after a graceful restart', async () => {
    const durable = await provider.standalone({ extraArgs: ['--appendfsync', 'always'] });
    try {
      await durable.command(['SET', 'crash:key', 'survives']);
      await durable.kill9();
      expect(await durable.isAlive()).toBe(false);
      await durable.start();
      expect(await durable.command(['GET', 'crash:key'])).toBe('survives');
      expect(await durable.logTail(50)).toMatch(/DB loaded from append only file/);

      await durable.command(['SET', 'restart:key', 'kept']);
      await durable.restart();
      expect(await durable.command(['MGET', 'crash:key', 'restart:key'])).toEqual([
        'survives',
        'kept',
      ]);
    } finally {
      await durable.destroy();
    }
  });
});

describe('cluster', () => {
  let cluster: RedisClusterHandle;
  let client: Cluster;

  beforeAll(async () => {
    const started = Date.now();
    cluster = await provider.cluster({ masters: 3, replicasPerMaster: 1 });
    console.log(`cluster 3+3 ready in ${Date.now() - started} ms`);
    client = quiet(new Cluster(cluster.seeds, { enableAutoPipelining: true }));
  }, 60000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('is ok on every node with all 16384 slots assigned', async () => {
    expect(cluster.nodes).toHaveLength(6);
    for (const node of cluster.nodes) {
      const info = parseInfo(String(await node.command(['CLUSTER', 'INFO'])));
      expect(info.cluster_state).toBe('ok');
      expect(info.cluster_slots_assigned).toBe(String(SLOT_COUNT));
      expect(info.cluster_known_nodes).toBe('6');
    }
  });

  it('has 3 masters, each with a linked replica', async () => {
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    // CLUSTER NODES is gossip: a loaded machine can show a linked replica a moment late.
    const replicas = await waitUntil(
      'every master to have one replica in the cluster view',
      async () => {
        const view = await cluster.replicas();
        const ok = masters.every((m) => view.filter((r) => r.masterId === m.id).length === 1);
        return ok ? view : notYet(`replicas: ${view.map((r) => r.masterId).join(', ')}`);
      },
      { timeoutMs: 10_000 },
    );
    for (const master of masters) {
      expect((await nodeOf(master).info('replication')).connected_slaves).toBe('1');
      const own = replicas.filter((r) => r.masterId === master.id);
      expect(own).toHaveLength(1);
      const link = await nodeOf(own[0]).info('replication');
      expect(link.master_link_status).toBe('up');
      expect(link.master_port).toBe(String(master.port));
    }
  });

  it('serves SET/GET through ioredis on every slot', async () => {
    const tags = tagsForEverySlot();
    // The local slot function must agree with the server's.
    for (const key of ['foo', '{user1000}.following', 'a{}b', tags[12345] + 'x']) {
      expect(keySlot(key)).toBe(await cluster.slotOf(key));
    }
    const keys = tags.map((tag) => `{${tag}}:harness`);
    await Promise.all(keys.map((key, slot) => client.set(key, String(slot))));
    const values = await Promise.all(keys.map((key) => client.get(key)));
    expect(values).toEqual(keys.map((_, slot) => String(slot)));
  });

  it('kills the master of a key, fails over to its replica, and lets it rejoin', async () => {
    const key = '{failover}:key';
    await client.set(key, 'before');
    const killed = await cluster.killMasterForKey(key);
    expect(await killed.isAlive()).toBe(false);
    await cluster.waitForHealthy({ timeoutMs: 20000 });
    const promoted = await cluster.masterForKey(key);
    expect(promoted.port).not.toBe(killed.port);
    expect(await promoted.command(['GET', key])).toBe('before');
    expect(await client.get(key)).toBe('before');

    await killed.start();
    await cluster.waitForHealthy({ replicasPerMaster: 1, timeoutMs: 20000 });
    expect((await killed.info('replication')).role).toBe('slave');
  }, 30000);
});

describe('sentinel', () => {
  let set: RedisSentinelHandle;

  beforeAll(async () => {
    const started = Date.now();
    set = await provider.sentinel();
    console.log(`sentinel set ready in ${Date.now() - started} ms`);
  }, 60000);

  afterAll(async () => {
    await set?.stop();
  });

  it('reports the master and its linked replica', async () => {
    expect(set.name).toBe('mymaster');
    expect(set.sentinels).toHaveLength(3);
    expect(await set.currentMaster()).toEqual({ host: '127.0.0.1', port: set.master.port });
    const replication = await set.replica.info('replication');
    expect(replication.master_link_status).toBe('up');
    expect(replication.master_port).toBe(String(set.master.port));
  });

  it('lets ioredis connect through the sentinels and write to the master', async () => {
    const client = quiet(new Redis({ sentinels: set.sentinels, name: set.name }));
    try {
      await client.set('sentinel:key', 'value');
      expect(await client.get('sentinel:key')).toBe('value');
      expect(await set.master.command(['GET', 'sentinel:key'])).toBe('value');
      expect(parseInfo(await client.info('server')).tcp_port).toBe(String(set.master.port));
    } finally {
      client.disconnect();
    }
  });

  it('fails over to the replica when the master is killed', async () => {
    const client = quiet(new Redis({ sentinels: set.sentinels, name: set.name }));
    try {
      await client.set('sentinel:before', 'kept');
      expect(await client.wait(1, 2000)).toBe(1);
      const before = await set.currentMaster();
      await set.master.kill9();
      const after = await set.waitForFailover(before, 20000);
      expect(after).toEqual({ host: '127.0.0.1', port: set.replica.port });
      expect((await set.replica.info('replication')).role).toBe('master');
      // ioredis asks the sentinels again after losing the old master.
      expect(await client.get('sentinel:before')).toBe('kept');
    } finally {
      client.disconnect();
    }
  }, 30000);
});
