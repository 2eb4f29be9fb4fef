/**
 * RedisEngine against real servers from the harness (never a mock): the engine contract on a
 * standalone server, a Sentinel set and a 3+3 cluster, then what only Redis has: the recorded
 * layout, durability by WAIT, slots that move, DNS discovery, and a store that goes down.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisSettings } from '../../../src/config/settings';
import { StoreUnavailableError } from '../../../src/errors';
import { durability } from '../../../src/store/durability';
import { loadSettings } from '../../../src/config';
import { SessionPolicy, SessionService } from '../../../src/session';
import { newId, parseToken } from '../../../src/session/token';
import { LIVE_BUCKETS, liveBucketOf, USER_BUCKETS, userBucketOf } from '../../../src/store/keys';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { LAYOUT_FORMAT } from '../../../src/store/redis/meta';
import { LUA_DIR } from '../../../src/store/redis/scripts';
import {
  getProvider,
  waitUntil,
  type RedisClusterHandle,
  type RedisNode,
  type RedisSentinelHandle,
} from '../../harness';
import { expectHoldfastError, rejectionOf } from '../../support/errors';
import { randomMix } from '../../support/count-model';
import { engineContract, type ContractTarget } from '../../support/suites/engine-contract';
import {
  formatOf,
  MINUTE,
  newUserId,
  redisSettings,
  session,
  sha256,
  stored,
  storedAs,
  storedHash,
} from '../../support/store-fixtures';

const provider = getProvider();

async function started(settings: RedisSettings): Promise<RedisEngine> {
  const engine = new RedisEngine(settings, { name: 'holdfast-test' });
  await engine.start();
  return engine;
}

/** Runs `use` on a started engine and stops it however `use` ends. */
async function withEngine(
  settings: RedisSettings,
  use: (engine: RedisEngine) => Promise<void>,
): Promise<void> {
  const engine = await started(settings);
  try {
    await use(engine);
  } finally {
    await engine.stop();
  }
}

async function target(
  settings: RedisSettings,
  slotOf?: (key: string) => Promise<number>,
): Promise<ContractTarget> {
  const engine = await started(settings);
  const c = engine.connection.writes;
  return {
    engine,
    keys: engine.keys,
    close: () => engine.stop(),
    raw: {
      get: (key) => c.getBuffer(key),
      set: async (key, value) => void (await c.set(key, value)),
      setHash: async (key, field, value) => void (await c.hset(key, field, value)),
      exists: async (key) => (await c.exists(key)) === 1,
      zscore: async (key, member) => {
        const score = await c.zscore(key, member);
        return score === null ? null : Number(score);
      },
      keySlot: slotOf,
      shardCounter: async (shard) => {
        const k = engine.keys;
        const [counter, zcards, hlens] = await Promise.all([
          c.get(k.counter(shard)),
          Promise.all(k.liveKeys(shard).map((key) => c.zcard(key))),
          Promise.all(k.usersKeys(shard).map((key) => c.hlen(key))),
        ]);
        const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
        return { counter, entries: sum(zcards), users: sum(hlens) };
      },
    },
  };
}

/**
 * What only the Redis engine has of ADR 180: data written before counters existed (the same
 * indexes, no `count` or `due` keys: the layout an earlier version leaves) is counted right,
 * each shard's counter built once in one script; and a counter that drifted is repaired.
 */
function counterUpgrade(settings: () => RedisSettings): void {
  const MS = 60_000;

  /** Deletes every shard's counter and due bounds: the store as an earlier version left it. */
  async function asWrittenBefore(engine: RedisEngine): Promise<void> {
    const c = engine.connection.writes;
    for (let shard = 0; shard < engine.shards; shard++) {
      await c.del(engine.keys.counter(shard));
      await c.del(engine.keys.due(shard));
    }
  }

  it('counts data written before counters existed, building each shard’s counter once', async () => {
    await withEngine(settings(), async (engine) => {
      const now = Date.now();
      const c = engine.connection.writes;
      const made = Array.from({ length: 40 }, (_, i) =>
        session(newUserId(), now, { expiresAt: now + (i < 10 ? 100 : 30 * MS) }),
      );
      for (const s of made) await engine.create(engine.keys.shardOf(s.userId), stored(s), 5);
      await engine.revoke(engine.keys.shardOf(made[39].userId), made[39].id);
      await asWrittenBefore(engine);
      // Writes leave an absent counter absent: only a whole-shard rebuild makes one.
      const late = session(newUserId(), now);
      await engine.create(engine.keys.shardOf(late.userId), stored(late), 5);
      for (let shard = 0; shard < engine.shards; shard++) {
        expect(await c.exists(engine.keys.counter(shard))).toBe(0);
      }

      expect(await engine.count(now)).toEqual({ sessions: 40, users: 40, expired: 0 });
      expect(engine.stats.countersBuilt).toBe(engine.shards);
      expect(await engine.count(now + 200)).toEqual({ sessions: 30, users: 30, expired: 10 });
      expect(await engine.count(now + 200)).toEqual({ sessions: 30, users: 30, expired: 0 });
      expect(engine.stats.countersBuilt).toBe(engine.shards);
      expect(engine.stats.countersRepaired).toBe(0);
    });
  });

  it('rebuilds a counter that drifted from its indexes, one shard per sweep', async () => {
    await withEngine(settings(), async (engine) => {
      const now = Date.now();
      const s = session(newUserId(), now);
      const shard = engine.keys.shardOf(s.userId);
      await engine.create(shard, stored(s), 5);
      expect(await engine.count(now)).toEqual({ sessions: 1, users: 1, expired: 0 });
      // What a node of an earlier version would leave: an entry the counter never saw.
      await engine.connection.writes.set(engine.keys.counter(shard), `0 0 ${now + 30 * MS}`);
      // A count reads counters only (ADR 230): the round-robin check is the sweeper's.
      for (let i = 0; i < engine.shards; i++) await engine.count(now);
      expect(engine.stats.countersRepaired).toBe(0);
      expect(await engine.count(now)).toEqual({ sessions: 0, users: 0, expired: 0 });
      for (let i = 0; i < engine.shards; i++) await engine.sweep(now);
      expect(engine.stats.countersRepaired).toBe(1);
      expect(await engine.count(now)).toEqual({ sessions: 1, users: 1, expired: 0 });
    });
  });
}

/**
 * ADR 230: with a count lag bound, a count reads counters only and may include sessions that
 * expired less than the bound ago; the sweep takes them out, and counter and indexes then agree.
 */
function countLag(settings: () => RedisSettings): void {
  const SECOND = 1000;

  async function withLag(maxLagMs: number, use: (engine: RedisEngine) => Promise<void>) {
    const engine = new RedisEngine(settings(), { name: 'holdfast-test', countMaxLagMs: maxLagMs });
    await engine.start();
    try {
      await use(engine);
    } finally {
      await engine.stop();
    }
  }

  /** Every shard's counter equals its indexes (sum of ZCARD, sum of HLEN). */
  async function countersMatchIndexes(engine: RedisEngine): Promise<void> {
    const c = engine.connection.writes;
    const k = engine.keys;
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    for (let shard = 0; shard < engine.shards; shard++) {
      const [counter, zcards, hlens] = await Promise.all([
        c.get(k.counter(shard)),
        Promise.all(k.liveKeys(shard).map((key) => c.zcard(key))),
        Promise.all(k.usersKeys(shard).map((key) => c.hlen(key))),
      ]);
      expect(counter).not.toBeNull();
      const [entries, users] = counter!.split(' ').map(Number);
      expect({ shard, entries, users }).toEqual({ shard, entries: sum(zcards), users: sum(hlens) });
    }
  }

  it.each([4, 5, 6])(
    'counter and indexes agree after a seeded random mix once the sweep has run (seed %i)',
    async (seed) => {
      await withLag(3_600 * SECOND, async (engine) => {
        const now = Date.now();
        let lagged = 0;
        let exact = 0;
        const { model, now: end } = await randomMix({
          engine,
          shardOf: (userId) => engine.keys.shardOf(userId),
          seed,
          operations: 400,
          users: 24,
          start: now,
          maxPerUser: 3,
          sweep: (at) => engine.sweep(at),
          // Before the sweep: the counters as they stand, expired entries included, and a lag
          // that covers the oldest of them; the count itself swept nothing.
          lagged: (got, indexed, oldest, at) => {
            expect({ ...got, lagMs: undefined }).toEqual(indexed);
            if (oldest !== null) {
              lagged++;
              expect(got.lagMs).toBeGreaterThanOrEqual(at - oldest);
            }
          },
          counted: (got, expected) => {
            exact++;
            expect({ ...got, lagMs: undefined }).toEqual(expected);
          },
        });
        expect(exact).toBeGreaterThan(10);
        // Some checks found expired entries the sweep had not taken yet.
        expect(lagged).toBeGreaterThan(3);
        await countersMatchIndexes(engine);
        expect(engine.stats.countersRepaired).toBe(0);
        // Long after: a count alone still counts what expired (the bound is an hour here)...
        const later = end + 10 * MINUTE;
        expect(await engine.count(later)).toMatchObject({ ...model.indexed(), expired: 0 });
        // ...until the sweep takes it all out.
        expect(await engine.sweep(later)).toMatchObject({
          expired: model.sessions.size,
          remaining: 0,
        });
        expect(await engine.count(later)).toEqual({ sessions: 0, users: 0, expired: 0 });
        await countersMatchIndexes(engine);
      });
    },
  );

  it('sweeps a shard itself once its oldest unswept expiry is older than the bound', async () => {
    await withLag(SECOND, async (engine) => {
      const now = Date.now();
      const soon = session(newUserId(), now, { expiresAt: now + 100 });
      const later = session(newUserId(), now, { expiresAt: now + 10 * MINUTE });
      for (const s of [soon, later])
        await engine.create(engine.keys.shardOf(s.userId), stored(s), 5);
      expect(await engine.count(now)).toEqual({ sessions: 2, users: 2, expired: 0 });
      // 400 ms after the expiry: within the bound, counted as it stands and said so.
      expect(await engine.count(now + 500)).toEqual({
        sessions: 2,
        users: 2,
        expired: 0,
        lagMs: 400,
      });
      // Past the bound (no sweeper ran): the count sweeps that shard and is exact.
      expect(await engine.count(now + 1100)).toEqual({ sessions: 1, users: 1, expired: 1 });
      expect(await engine.count(now + 1100)).toEqual({ sessions: 1, users: 1, expired: 0 });
      await countersMatchIndexes(engine);
    });
  });
}

describe('RedisEngine on a standalone server', () => {
  let server: RedisNode;
  const settings = (o: Partial<RedisSettings> = {}) =>
    redisSettings({ mode: 'standalone', nodes: [{ host: server.host, port: server.port }], ...o });

  beforeAll(async () => {
    server = await provider.standalone();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  engineContract(() => target(settings()));
  counterUpgrade(() => settings());
  countLag(() => settings());

  it('records the layout once and returns what is recorded', async () => {
    const first = await started(settings({ shards: 16 }));
    const prefix = first.settings.keyPrefix;
    const later = await started(settings({ keyPrefix: prefix, shards: 64 }));
    try {
      const recorded = {
        shards: 16,
        keyPrefix: prefix,
        format: LAYOUT_FORMAT,
        liveBuckets: LIVE_BUCKETS,
        userBuckets: USER_BUCKETS,
      };
      expect(await first.meta()).toEqual(recorded);
      expect(await later.meta()).toEqual(recorded);
    } finally {
      await Promise.all([first.stop(), later.stop()]);
    }
  });

  it('computes the buckets of ids in Lua exactly as keys.ts does', async () => {
    await withEngine(settings(), async (engine) => {
      const buckets = readFileSync(join(LUA_DIR, 'includes', 'buckets.lua'), 'utf8');
      const lua = `${buckets}
local out = {}
for i = 3, #ARGV do
  out[#out + 1] = liveKey('', ARGV[i], tonumber(ARGV[1]))
  out[#out + 1] = userIndexKey('', ARGV[i], tonumber(ARGV[2]))
end
return out`;
      const ids = [
        ...Array.from({ length: 2000 }, () => newId()),
        // Format 4's 16-char ids (12 bytes): the first two chars still give the first byte.
        ...Array.from({ length: 1000 }, () => newId(12)),
        ...Array.from({ length: 100 }, () => randomBytes(12).toString('base64')),
        ...Array.from({ length: 100 }, () => newUserId()),
        ...['', 'A', '_', '-', '_-', 'é', 'éa', '\u{1F600}x', 'malformed0', 'a@example.com'],
        ...['\u0000x', '\ud800A', '€uro', '+/', '..'],
      ];
      const reply = (await engine.connection.writes.eval(
        lua,
        0,
        LIVE_BUCKETS,
        USER_BUCKETS,
        ...ids,
      )) as string[];
      const expected = ids.flatMap((id) => [String(liveBucketOf(id)), String(userBucketOf(id))]);
      expect(reply).toEqual(expected);
      // Random session ids of either length spread over every live bucket.
      expect(new Set(ids.slice(0, 2000).map(liveBucketOf)).size).toBe(LIVE_BUCKETS);
      expect(new Set(ids.slice(2000, 3000).map(liveBucketOf)).size).toBe(LIVE_BUCKETS);
      // The bucket is the first byte of the id, whatever its length (mod LIVE_BUCKETS).
      const first = (id: string) => Buffer.from(id, 'base64url')[0] % LIVE_BUCKETS;
      expect(ids.slice(0, 3000).filter((id) => liveBucketOf(id) !== first(id))).toEqual([]);
    });
  });

  it('keeps reads and WAITed writes on separate connections', async () => {
    await withEngine(settings(), async (engine) => {
      await engine.ping();
      await engine.count(Date.now());
      const clients = String(await server.command(['CLIENT', 'LIST']));
      expect(clients).toMatch(/ name=holdfast-test-reads-f4 /);
      expect(clients).toMatch(/ name=holdfast-test-writes-f4 /);
    });
  });

  it('a copy of Redis holds SHA-256 of every secret and never a secret (sessions and remember-me)', async () => {
    await withEngine(settings(), async (engine) => {
      const policy = new SessionPolicy(loadSettings({ env: { NODE_ENV: 'test' } }).session);
      const service = new SessionService(engine, engine.keys, policy);
      const userId = newUserId();
      const client = { ip: '203.0.113.7', userAgent: 'Firefox 130 on Linux' };
      const first = await service.create(userId, client, 'password');
      const rotated = (await service.rotate(first.session, client))!;
      const tokens = [
        rotated.token,
        (await service.create(userId, client, 'oauth')).token,
        (await service.create(userId, client, 'password', { remember: true })).rememberToken!,
      ];
      // Everything this engine wrote, as a copy of the server would hold it.
      const c = engine.connection.writes;
      const keys = await c.keys(`*${engine.keys.prefix}*`);
      expect(keys.length).toBeGreaterThan(3);
      const values: Buffer[] = [];
      for (const key of keys) {
        values.push(Buffer.from(key));
        const type = await c.type(key);
        if (type === 'string') values.push((await c.getBuffer(key))!);
        else if (type === 'hash') values.push(...Object.values(await c.hgetallBuffer(key)));
        else if (type === 'zset') values.push(...(await c.zrangeBuffer(key, 0, -1)));
        else if (type === 'set') values.push(...(await c.smembersBuffer(key)));
        else throw new Error(`unexpected ${type} at ${key}`);
      }
      const copy = Buffer.concat(values);
      for (const token of [first.token, ...tokens]) {
        const { secret } = parseToken(token, engine.keys.shards)!;
        expect(copy.includes(Buffer.from(secret))).toBe(false);
        expect(copy.includes(Buffer.from(secret, 'base64url'))).toBe(false);
      }
      // The live ones are there as SHA-256 of the secret, computed here independently: whole for
      // the remember-me token, whole or its first 16 bytes (format 4) for sessions.
      for (const [i, token] of tokens.entries()) {
        const { secret } = parseToken(token, engine.keys.shards)!;
        const kept =
          i === tokens.length - 1 ? sha256(secret) : storedHash(secret, formatOf(engine));
        expect(copy.includes(kept)).toBe(true);
      }
    });
  });

  it('reads with one GET and no script', async () => {
    await withEngine(settings(), async (engine) => {
      const userId = newUserId();
      const shard = engine.keys.shardOf(userId);
      const s = session(userId, Date.now());
      await engine.create(shard, stored(s), 50);
      const before = await commandCalls(server);
      await engine.get(shard, s.id, Date.now());
      const after = await commandCalls(server);
      expect(after.get - before.get).toBe(1);
      expect(after.evalsha - before.evalsha).toBe(0);
    });
  });

  it('a script that fails on foreign data is HF_STORE_SCRIPT naming the script, not an outage', async () => {
    await withEngine(settings(), async (engine) => {
      const userId = newUserId();
      const shard = engine.keys.shardOf(userId);
      // Something other than Holdfast wrote a string where the user index (a HASH) lives.
      await engine.connection.writes.set(engine.keys.users(shard, userId), 'foreign');
      expectHoldfastError(
        await rejectionOf(engine.revokeUser(shard, userId)),
        'HF_STORE_SCRIPT',
        /^store script revoke-user failed during revokeUser: WRONGTYPE /,
      );
    });
  });
});

describe('RedisEngine on a Sentinel set', () => {
  let set: RedisSentinelHandle;
  const settings = (o: Partial<RedisSettings> = {}) =>
    redisSettings({ mode: 'sentinel', nodes: set.sentinels, sentinelName: set.name, ...o });

  beforeAll(async () => {
    set = await provider.sentinel();
  }, 60_000);
  afterAll(async () => {
    await set?.stop();
  });

  engineContract(() => target(settings()));

  it('waits for the replica when durability asks for one', async () => {
    await withEngine(settings({ durability: { replicas: 1, timeout: 1000 } }), async (engine) => {
      const userId = newUserId();
      const shard = engine.keys.shardOf(userId);
      const s = session(userId, Date.now());
      expect(await engine.create(shard, stored(s), 50)).toEqual([]);
      expect(await engine.revoke(shard, s.id)).toBe(true);
    });
  });
});

describe('RedisEngine on a cluster (3 masters, 3 replicas)', () => {
  let cluster: RedisClusterHandle;
  const settings = (o: Partial<RedisSettings> = {}) =>
    redisSettings({ mode: 'cluster', nodes: cluster.seeds, ...o });

  beforeAll(async () => {
    cluster = await provider.cluster({ masters: 3, replicasPerMaster: 1 });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  engineContract(() => target(settings(), (key) => cluster.slotOf(key)));
  counterUpgrade(() => settings());
  countLag(() => settings());

  it('acknowledges a write replicated to one replica (durability.replicas 1)', async () => {
    await withEngine(settings({ durability: { replicas: 1, timeout: 1000 } }), async (engine) => {
      const userId = newUserId();
      const shard = engine.keys.shardOf(userId);
      const s = session(userId, Date.now());
      expect(await engine.create(shard, stored(s), 50)).toEqual([]);
      expect(await engine.revoke(shard, s.id)).toBe(true);
    });
  });

  it('keeps a change fewer replicas acknowledged and records it as pending (ADR 215)', async () => {
    await withEngine(settings({ durability: { replicas: 2, timeout: 50 } }), async (engine) => {
      const userId = newUserId();
      const shard = engine.keys.shardOf(userId);
      const s = session(userId, Date.now());
      const created = await durability.track(() => engine.create(shard, stored(s), 50));
      // The write happened on the master: reported as pending, not as a failure.
      expect(created).toEqual({ value: [], pending: ['create'] });
      expect(await engine.get(shard, s.id, Date.now())).toEqual(storedAs(s, formatOf(engine)));
      // A revocation sends WAIT again (WAIT_RETRIES) before it is left pending.
      const retried = durability.retried.pending;
      const started = Date.now();
      const revoked = await durability.track(() => engine.revoke(shard, s.id));
      expect(revoked).toEqual({ value: true, pending: ['revoke'] });
      expect(durability.retried.pending).toBe(retried + 1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 50 - 5);
      expect(await engine.get(shard, s.id, Date.now())).toBeNull();
    });
  });

  it('follows a slot moved to another master during a durable write (MOVED in the WAIT pipeline)', async () => {
    await withEngine(settings({ durability: { replicas: 1, timeout: 1000 } }), async (engine) => {
      const userId = newUserId();
      const shard = engine.keys.shardOf(userId);
      const first = session(userId, Date.now());
      await engine.create(shard, stored(first), 50);
      // The engine's slot map now points at the source master; move the slot behind its back.
      const key = engine.keys.session(shard, first.id);
      const moved = await moveSlot(cluster, key);

      const next = session(userId, Date.now());
      expect(await engine.create(shard, stored(next), 50)).toEqual([]);
      expect(await engine.get(shard, next.id, Date.now())).toEqual(
        storedAs(next, formatOf(engine)),
      );
      expect(await engine.get(shard, first.id, Date.now())).toEqual(
        storedAs(first, formatOf(engine)),
      );
      const onTarget = await moved.target.command(['EXISTS', engine.keys.session(shard, next.id)]);
      expect(onTarget).toBe(1);
    });
  });

  it('discovers the cluster from a DNS name', async () => {
    const seed = cluster.seeds[0];
    await withEngine(
      settings({ nodes: [], dns: { name: 'localhost', port: seed.port } }),
      async (engine) => {
        await engine.ping();
        const userId = newUserId();
        const s = session(userId, Date.now());
        await engine.create(engine.keys.shardOf(userId), stored(s), 50);
        expect(await engine.get(engine.keys.shardOf(userId), s.id, Date.now())).not.toBeNull();
      },
    );
  });
});

describe('RedisEngine when the store is down', () => {
  let server: RedisNode;

  beforeAll(async () => {
    server = await provider.standalone();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('throws StoreUnavailableError (never "no session") and recovers when the store is back', async () => {
    await withEngine(
      redisSettings({ mode: 'standalone', nodes: [{ host: server.host, port: server.port }] }),
      async (engine) => {
        const userId = newUserId();
        const shard = engine.keys.shardOf(userId);
        const s = session(userId, Date.now());
        await engine.create(shard, stored(s), 50);

        await server.stop();
        const started = Date.now();
        const now = Date.now();
        await expect(engine.get(shard, s.id, now)).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(engine.touch(shard, s.id, now, now + 1000, now)).rejects.toBeInstanceOf(
          StoreUnavailableError,
        );
        await expect(engine.create(shard, stored(session(userId, now)), 50)).rejects.toBeInstanceOf(
          StoreUnavailableError,
        );
        await expect(engine.count(now)).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(engine.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
        // Failing fast: nothing waited for a reconnect or a command timeout.
        expect(Date.now() - started).toBeLessThan(1000);

        await server.start();
        const back = await waitUntil(
          'the engine to read again',
          () => engine.get(shard, s.id, Date.now()),
          {
            timeoutMs: 10_000,
            intervalMs: 100,
          },
        );
        expect(back).toEqual(storedAs(s, formatOf(engine)));
      },
    );
  });

  it('refuses to start when no server answers', async () => {
    const engine = new RedisEngine(
      redisSettings({
        mode: 'standalone',
        nodes: [{ host: '127.0.0.1', port: 1 }],
        connectTimeout: 500,
      }),
    );
    await expect(engine.start()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

/** calls of GET and EVALSHA so far (INFO commandstats). */
async function commandCalls(node: RedisNode): Promise<{ get: number; evalsha: number }> {
  const stats = await node.info('commandstats');
  const calls = (name: string) =>
    Number(/calls=(\d+)/.exec(stats[`cmdstat_${name}`] ?? '')?.[1] ?? 0);
  return { get: calls('get'), evalsha: calls('evalsha') };
}

/**
 * Moves the slot of `key` to another master the way a resharding does (IMPORTING/MIGRATING,
 * MIGRATE, SETSLOT NODE everywhere), without telling any client.
 */
async function moveSlot(
  cluster: RedisClusterHandle,
  key: string,
): Promise<{ source: RedisNode; target: RedisNode }> {
  const slot = await cluster.slotOf(key);
  const source = await cluster.masterForKey(key);
  const masters = await cluster.masters();
  const targetView = masters.find((m) => m.port !== source.port);
  const sourceView = masters.find((m) => m.port === source.port);
  if (!targetView?.node || !sourceView) throw new Error('need two masters');
  const target = targetView.node;
  await target.command(['CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceView.id]);
  await source.command(['CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetView.id]);
  for (;;) {
    const keys = (await source.command(['CLUSTER', 'GETKEYSINSLOT', slot, 100])) as string[];
    if (keys.length === 0) break;
    await source.command(['MIGRATE', target.host, target.port, '', 0, 5000, 'KEYS', ...keys]);
  }
  for (const m of masters)
    await m.node?.command(['CLUSTER', 'SETSLOT', slot, 'NODE', targetView.id]);
  return { source, target };
}
