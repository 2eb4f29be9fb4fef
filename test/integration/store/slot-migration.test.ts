/**
 * Requests while a slot migrates (ASK, TRYAGAIN, MOVED) on a real 3-master cluster, with the
 * migration states set by hand (CLUSTER SETSLOT ... MIGRATING / IMPORTING, MIGRATE of some keys):
 * the engine and the user store answer during them; past the deadline, and with a master dead,
 * the 503's cause is logged at warn (rate-limited) and counted in holdfast_store_unavailable_total.
 */
import { createHash } from 'node:crypto';
import type { RedisSettings } from '../../../src/config/settings';
import { StoreUnavailableError } from '../../../src/errors';
import { createLogger } from '../../../src/log/logger';
import { createMetrics, type Metrics } from '../../../src/metrics';
import { storeUnavailable, UNAVAILABLE_CAUSES } from '../../../src/store';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { RedisThrottleStore } from '../../../src/users/redis-throttle';
import { RedisUserStore } from '../../../src/users/redis-user-store';
import {
  getProvider,
  keySlot,
  sleep,
  type RedisClusterHandle,
  type RedisNode,
} from '../../harness';
import {
  formatOf,
  MINUTE,
  newUserId,
  redisSettings,
  session,
  stored,
  storedAs,
} from '../../support/store-fixtures';

const provider = getProvider();

interface Migration {
  readonly slot: number;
  readonly source: RedisNode;
  readonly target: RedisNode;
  /** MIGRATEs these keys (they must be in the slot) from source to target. */
  move(keys: string[]): Promise<void>;
  /** Moves the rest of the slot's keys and hands the slot to the target on every master. */
  finish(): Promise<void>;
}

/** Puts key's slot in MIGRATING (source) / IMPORTING (target) state; nothing moved yet. */
async function migrate(cluster: RedisClusterHandle, key: string): Promise<Migration> {
  const slot = await cluster.slotOf(key);
  const source = await cluster.masterForKey(key);
  const masters = await cluster.masters();
  const sourceView = masters.find((m) => m.port === source.port);
  const targetView = masters.find((m) => m.port !== source.port);
  if (!sourceView || !targetView?.node) throw new Error('need two masters');
  const target = targetView.node;
  await target.command(['CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceView.id]);
  await source.command(['CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetView.id]);
  const move = async (keys: string[]) => {
    if (keys.length === 0) return;
    await source.command(['MIGRATE', target.host, target.port, '', 0, 5000, 'KEYS', ...keys]);
  };
  return {
    slot,
    source,
    target,
    move,
    finish: async () => {
      for (;;) {
        const keys = (await source.command(['CLUSTER', 'GETKEYSINSLOT', slot, 100])) as string[];
        if (keys.length === 0) break;
        await move(keys);
      }
      // Target first, as redis-cli does: from then on it serves the slot without ASKING.
      await target.command(['CLUSTER', 'SETSLOT', slot, 'NODE', targetView.id]);
      for (const m of masters) {
        if (m.node !== target)
          await m.node?.command(['CLUSTER', 'SETSLOT', slot, 'NODE', targetView.id]);
      }
    },
  };
}

/** The reply error a raw command gets (the migration state is real, not assumed). */
async function replyOf(node: RedisNode, args: Array<string | number>): Promise<string> {
  try {
    await node.command(args);
    return 'ok';
  } catch (err) {
    return (err as Error).message.split(' ', 1)[0];
  }
}

type LogLine = Record<string, unknown> & { level: number; msg: string };

function captureLog(): { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger('info', {
    write: (line: string) => void lines.push(JSON.parse(line) as LogLine),
  });
  storeUnavailable.reset();
  storeUnavailable.useLogger(logger);
  return { lines };
}

async function unavailableCounts(metrics: Metrics): Promise<Record<string, number>> {
  const metric = metrics.registry.getSingleMetric('holdfast_store_unavailable_total');
  if (!metric) throw new Error('holdfast_store_unavailable_total is not registered');
  const counts: Record<string, number> = {};
  for (const v of (await metric.get()).values) counts[String(v.labels.cause)] = v.value;
  return counts;
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Rejection of a promise that must reject, and how long it took. */
async function timedFailure(p: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await p.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

describe('store requests while slots migrate, and the causes of 503s (3 masters)', () => {
  let cluster: RedisClusterHandle;
  let engine: RedisEngine | undefined;
  let metrics: Metrics;
  const settings = (o: Partial<RedisSettings> = {}) =>
    redisSettings({ mode: 'cluster', nodes: cluster.seeds, ...o });
  const open = async (o: Partial<RedisSettings> = {}) => {
    engine = new RedisEngine(settings(o), { name: 'holdfast-migration-test' });
    await engine.start();
    return engine;
  };

  beforeAll(async () => {
    cluster = await provider.cluster({ masters: 3, replicasPerMaster: 0 });
  }, 60_000);
  beforeEach(() => {
    metrics = createMetrics({ defaultMetrics: false });
  });
  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
    storeUnavailable.useLogger(undefined);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('get, create, touch and user-store calls all succeed during a migration (ASK, TRYAGAIN): 0 × 503', async () => {
    const { lines } = captureLog();
    const before = await unavailableCounts(metrics);
    const e = await open();
    const users = new RedisUserStore(() => e.connection.reads, e.keys.prefix);
    const now = Date.now();
    const userId = newUserId();
    const shard = e.keys.shardOf(userId);
    const s1 = session(userId, now);
    expect(await e.create(shard, stored(s1), 50)).toEqual([]);
    const account = await users.create({ email: `${userId}@example.test`, passwordHash: null });

    // The session's slot: only s1's record moved so far. A read of it gets ASK from the source.
    const sessionKey = e.keys.session(shard, s1.id);
    const m = await migrate(cluster, sessionKey);
    await m.move([sessionKey]);
    expect(await replyOf(m.source, ['GET', sessionKey])).toBe('ASK');
    expect(await e.get(shard, s1.id, Date.now())).toEqual(storedAs(s1, formatOf(e)));

    // The user's record slot: every key moved, the slot not handed over yet (ASK for all).
    const userKey = `{${e.keys.prefix}:u:${account.id}}`;
    const mu = await migrate(cluster, userKey);
    await mu.move(
      (await mu.source.command(['CLUSTER', 'GETKEYSINSLOT', mu.slot, 100])) as string[],
    );
    expect(await replyOf(mu.source, ['HGETALL', userKey])).toBe('ASK');
    expect((await users.findById(account.id))?.email).toBe(account.email);
    expect(await users.setRoles(account.id, ['admin'])).toBe(true); // a script, through ASK

    // The login throttle's counter (EVAL and DEL through guard), its key moved, slot not handed over.
    const throttle = new RedisThrottleStore(() => e.connection.reads, e.keys.prefix);
    const rule = { limit: 5, baseDelay: 1000, maxDelay: 60_000, window: 15 * MINUTE };
    expect(await throttle.attempt(userId, rule, Date.now())).toBe(0);
    const throttleKey = `{${e.keys.prefix}:t:${userId}}`;
    const mt = await migrate(cluster, throttleKey);
    await mt.move([throttleKey]);
    expect(await replyOf(mt.source, ['EXISTS', throttleKey])).toBe('ASK');
    expect(await throttle.attempt(userId, rule, Date.now())).toBe(0);
    await mt.finish();
    expect(await mt.target.command(['HGET', throttleKey, 'c'])).toBe('2'); // counted on the target
    const mt2 = await migrate(cluster, throttleKey); // and back, for DEL during ASK
    await mt2.move([throttleKey]);
    await throttle.reset(userId);
    await mt2.finish();
    expect(await mt2.target.command(['EXISTS', throttleKey])).toBe(0);

    // A write touching moved and unmoved keys of the slot gets TRYAGAIN until the handover:
    // these wait it out (the handover comes 150 ms later) instead of answering 503.
    const s2 = session(userId, Date.now());
    const pending = Promise.all([
      e.create(shard, stored(s2), 50),
      e.touch(shard, s1.id, Date.now(), Date.now() + 30 * MINUTE, Date.now()),
      e.get(shard, s1.id, Date.now()),
    ]);
    await sleep(150);
    await Promise.all([m.finish(), mu.finish()]);
    const [created, touched, read] = await pending;
    expect(created).toEqual([]);
    expect(touched).toBe(true);
    expect(read?.id).toBe(s1.id);
    expect(await e.get(shard, s2.id, Date.now())).toEqual(storedAs(s2, formatOf(e)));
    expect((await users.findById(account.id))?.roles).toEqual(['admin']);
    expect(await replyOf(m.target, ['EXISTS', e.keys.session(shard, s2.id)])).toBe('ok');

    expect(total(await unavailableCounts(metrics))).toBe(total(before));
    expect(lines.filter((l) => l.msg.includes('unavailable'))).toEqual([]);
  }, 30_000);

  it('a read batched with an ASKed read of the same slot still finds its session (no false logout)', async () => {
    const e = await open();
    const userId = newUserId();
    const shard = e.keys.shardOf(userId);
    // Sessions of one shard share a slot: s1 has moved to the target, the others not yet.
    const [s1, ...rest] = Array.from({ length: 4 }, () => session(userId, Date.now()));
    for (const s of [s1, ...rest]) expect(await e.create(shard, stored(s), 50)).toEqual([]);
    const m = await migrate(cluster, e.keys.session(shard, s1.id));
    try {
      await m.move([e.keys.session(shard, s1.id)]);
      expect(await replyOf(m.source, ['GET', e.keys.session(shard, rest[0].id)])).toBe('ok');
      // One turn of the event loop: the reads client sends these GETs to the source as one batch.
      // ioredis answers an ASK inside a read-only batch by sending the WHOLE batch again to the
      // target with ASKING, where the keys that have not moved yet read as nil.
      const read = await Promise.all([s1, ...rest].map((s) => e.get(shard, s.id, Date.now())));
      expect(read.map((r) => r?.id ?? null)).toEqual([s1, ...rest].map((s) => s.id));
    } finally {
      await m.finish();
    }
  }, 30_000);

  it('a user-store read batched with an ASKed read of the same slot still finds its user', async () => {
    const e = await open();
    const users = new RedisUserStore(() => e.connection.reads, e.keys.prefix);
    const emailKey = (email: string) =>
      `{${e.keys.prefix}:e:${createHash('sha256').update(email).digest('base64url').slice(0, 32)}}`;
    const a = await users.create({ email: `${newUserId()}@example.test`, passwordHash: null });
    // An address whose index key shares the slot of a's (about 16k tries of CRC16: milliseconds).
    const slot = keySlot(emailKey(a.email));
    let email = '';
    for (let i = 0; keySlot(emailKey(email)) !== slot; i++) email = `b${i}-${a.email}`;
    const b = await users.create({ email, passwordHash: null });
    expect(keySlot(emailKey(b.email))).toBe(slot); // as stored (normalized)
    const m = await migrate(cluster, emailKey(a.email));
    try {
      await m.move([emailKey(a.email)]);
      expect(await replyOf(m.source, ['GET', emailKey(b.email)])).toBe('ok');
      const found = await Promise.all([users.findByEmail(a.email), users.findByEmail(b.email)]);
      expect(found.map((u) => u?.id ?? null)).toEqual([a.id, b.id]);
    } finally {
      await m.finish();
    }
  }, 30_000);

  it('past the deadline a TRYAGAIN is a 503 whose cause is logged at warn (once per 10 s) and counted', async () => {
    const { lines } = captureLog();
    const before = await unavailableCounts(metrics);
    const e = await open({ commandTimeout: 300 });
    const userId = newUserId();
    const shard = e.keys.shardOf(userId);
    const s1 = session(userId, Date.now());
    await e.create(shard, stored(s1), 50);
    const sessionKey = e.keys.session(shard, s1.id);
    const m = await migrate(cluster, sessionKey);
    try {
      await m.move([sessionKey]);
      // Left half-moved: every multi-key script on the slot gets TRYAGAIN for as long as it lasts.
      const first = await timedFailure(e.create(shard, stored(session(userId, Date.now())), 50));
      expect(first.error).toBeInstanceOf(StoreUnavailableError);
      expect((first.error as Error).message).toContain('TRYAGAIN');
      // Retried until the deadline (commandTimeout 300 ms), not failed at the first TRYAGAIN.
      expect(first.ms).toBeGreaterThanOrEqual(150);
      expect(first.ms).toBeLessThan(2_000);
      const second = await timedFailure(e.create(shard, stored(session(userId, Date.now())), 50));
      expect(second.error).toBeInstanceOf(StoreUnavailableError);

      const warned = lines.filter((l) => l.msg.startsWith('session store unavailable'));
      expect(warned).toHaveLength(1); // the second is suppressed for 10 s
      expect(warned[0]).toMatchObject({
        level: 40,
        cause: 'tryagain',
        errorClass: 'ReplyError',
        operation: 'create',
        slot: m.slot,
        // Redis answers TRYAGAIN from the source (it holds some of the script's keys, not all).
        node: `${m.source.host}:${m.source.port}`,
        suppressed: 0,
      });
      expect(warned[0].msg).toContain(
        `tryagain during create on ${m.source.host}:${m.source.port}`,
      );
      const after = await unavailableCounts(metrics);
      expect(after.tryagain - (before.tryagain ?? 0)).toBe(2);
      expect(total(after) - total(before)).toBe(2);
    } finally {
      await m.finish();
    }
    expect(await e.create(shard, stored(session(userId, Date.now())), 50)).toEqual([]);
  }, 30_000);

  it('every cause has a zero series from the start', async () => {
    const counts = await unavailableCounts(createMetrics({ defaultMetrics: false }));
    expect(Object.keys(counts).sort()).toEqual([...UNAVAILABLE_CAUSES].sort());
  });

  // Last: it kills a master of this cluster.
  it('a dead master: the 503 names the cause and the node, in the log and the metric', async () => {
    const { lines } = captureLog();
    const before = await unavailableCounts(metrics);
    const e = await open({ commandTimeout: 500 });
    const userId = newUserId();
    const shard = e.keys.shardOf(userId);
    const s1 = session(userId, Date.now());
    await e.create(shard, stored(s1), 50);
    const killed = await cluster.killMasterForKey(e.keys.session(shard, s1.id));

    const { error } = await timedFailure(e.get(shard, s1.id, Date.now()));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    const warned = lines.filter((l) => l.msg.startsWith('session store unavailable'));
    expect(warned).toHaveLength(1);
    expect(['connection', 'timeout']).toContain(warned[0].cause);
    expect(warned[0]).toMatchObject({
      level: 40,
      operation: 'get',
      node: `${killed.host}:${killed.port}`,
      slot: keySlot(e.keys.session(shard, s1.id)),
    });
    const after = await unavailableCounts(metrics);
    const cause = String(warned[0].cause);
    expect(after[cause] - (before[cause] ?? 0)).toBe(1);
    expect(total(after) - total(before)).toBe(1);
  }, 30_000);
});
