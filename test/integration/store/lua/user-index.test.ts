/**
 * The user index value (src/store/lua/includes/user-index.lua) on real Redis: 22-char ids (and any
 * other shape) stay space-separated text, byte for byte the older format; format 4's 16-char ids
 * are stored as 12 raw bytes after a "\0", which keeps a user with 5 sessions (and the bucket
 * holding them) in listpack encoding. Then every script that reads the index over compact ids:
 * create (eviction), revoke, rotate, revoke-user, list-user, sweep, revoke-shard, remember-me
 * series and a reshard move, on the Redis engine and (what it keeps itself) the memory engine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newId } from '../../../../src/session/token';
import type { SessionEngine } from '../../../../src/store/engine';
import { shardUnder, userBucketOf } from '../../../../src/store/keys';
import { MemoryEngine } from '../../../../src/store/memory/memory-engine';
import { RedisEngine } from '../../../../src/store/redis/redis-engine';
import { LUA_DIR } from '../../../../src/store/redis/scripts';
import { getProvider, type RedisNode } from '../../../harness';
import { newUserId, redisSettings, series, session, stored } from '../../../support/store-fixtures';

const COMPACT = /^[A-Za-z0-9_-]{16}$/;

/**
 * The value as the include must write it, computed here independently with Node's base64url: text
 * ids (oldest first, space-separated), then "\0" and each 16-char id's 12 bytes, when there is one.
 */
function expectedValue(ids: readonly string[]): Buffer {
  const text = ids.filter((id) => !COMPACT.test(id));
  const compact = ids.filter((id) => COMPACT.test(id));
  const head = Buffer.from(text.join(' '));
  if (compact.length === 0) return head;
  return Buffer.concat([
    head,
    Buffer.from([0]),
    ...compact.map((id) => Buffer.from(id, 'base64url')),
  ]);
}

/** The ids as the include reads them back: text ones first, each part in its order. */
const expectedOrder = (ids: readonly string[]) => [
  ...ids.filter((id) => !COMPACT.test(id)),
  ...ids.filter((id) => COMPACT.test(id)),
];

describe('the user index value on real Redis', () => {
  let server: RedisNode;
  let engine: RedisEngine;
  const include = readFileSync(join(LUA_DIR, 'includes', 'user-index.lua'), 'utf8');

  beforeAll(async () => {
    server = await getProvider().standalone();
    engine = new RedisEngine(
      redisSettings({ mode: 'standalone', nodes: [{ host: server.host, port: server.port }] }),
      { name: 'holdfast-test' },
    );
    await engine.start();
  });
  afterAll(async () => {
    await engine?.stop();
    await server?.destroy();
  });

  const redis = () => engine.connection.writes;

  /** Runs the include's `call` on KEYS[1] field ARGV[1]; returns the stored value and the ids read back. */
  async function run(
    call: string,
    key: string,
    uid: string,
    args: readonly string[],
  ): Promise<{ result: number; value: Buffer | null; ids: string[] }> {
    const lua = `${include}
local result = ${call}
local out = { result, redis.call('HGET', KEYS[1], ARGV[1]) or '' }
for _, id in ipairs(indexGet(KEYS[1], ARGV[1])) do out[#out + 1] = id end
return out`;
    const reply = (await redis().callBuffer('EVAL', lua, 1, key, uid, ...args)) as [
      number,
      Buffer,
      ...Buffer[],
    ];
    const exists = await redis().hexists(key, uid);
    return {
      result: reply[0],
      value: exists ? reply[1] : null,
      ids: reply.slice(2).map((b) => (b as Buffer).toString('utf8')),
    };
  }
  const set = (key: string, uid: string, ids: readonly string[]) =>
    run(`indexSet(KEYS[1], ARGV[1], { unpack(ARGV, 2) })`, key, uid, ids);
  const remove = (key: string, uid: string, id: string) =>
    run(`indexRemove(KEYS[1], ARGV[1], ARGV[2])`, key, uid, [id]);
  const key = () => `test:users:${newId()}`;

  it('writes only 22-char ids exactly as before (text, one space between) and reads them back', async () => {
    const ids = [newId(), newId(), newId()];
    const k = key();
    const r = await set(k, 'u1', ids);
    expect(r.value).toEqual(Buffer.from(ids.join(' ')));
    expect(r.value!.includes(0)).toBe(false);
    expect(r.ids).toEqual(ids);
    expect(r.result).toBe(1);
    // A value written by an earlier version is read as it is, and rewritten byte-identical.
    const before = [newId(), newId(), newId()];
    await redis().hset(k, 'u2', before.join(' '));
    const removed = await remove(k, 'u2', before[1]);
    expect(removed.value).toEqual(Buffer.from(`${before[0]} ${before[2]}`));
    expect(removed.ids).toEqual([before[0], before[2]]);
  });

  it('stores 16-char ids as 12 raw bytes after "\\0": 5 of them in 61 bytes', async () => {
    const ids = Array.from({ length: 5 }, () => newId(12));
    const r = await set(key(), 'u', ids);
    expect(r.value).toEqual(expectedValue(ids));
    expect(r.value).toHaveLength(61);
    expect(r.value![0]).toBe(0);
    expect(r.ids).toEqual(ids);
  });

  it('keeps mixed values text first, each part oldest first, whatever order they come in', async () => {
    const [l1, l2] = [newId(), newId()];
    const [c1, c2, c3] = [newId(12), newId(12), newId(12)];
    const inOrder = await set(key(), 'u', [l1, l2, c1, c2, c3]);
    expect(inOrder.value).toEqual(
      Buffer.concat([
        Buffer.from(`${l1} ${l2}\0`),
        Buffer.from(c1, 'base64url'),
        Buffer.from(c2, 'base64url'),
        Buffer.from(c3, 'base64url'),
      ]),
    );
    expect(inOrder.ids).toEqual([l1, l2, c1, c2, c3]);
    // Interleaved: text ids are the older ones (a deployment never goes back to 22-char ids).
    expect((await set(key(), 'u', [c1, l1, c2, l2, c3])).ids).toEqual([l1, l2, c1, c2, c3]);
  });

  it('keeps ids of every other shape as text, and round-trips every byte value of compact ids', async () => {
    const others = [
      'a',
      'sess-1',
      '-_-_',
      'AAAAAAAAAAAAAAA.', // 16 chars, one outside base64url
      'AAAAAAAAAAAAAAA+',
      'AAAAAAAAAAAAAAA/',
      'AAAAAAAAAAAAAA==',
      'AAAAAAAAAAAAAAAAA', // 17
      'AAAAAAAAAAAAAAA', // 15
      'éAAAAAAAAAAAAAA', // 16 bytes in UTF-8, not base64url
      newId(),
    ];
    const compact = [
      'AAAAAAAAAAAAAAAA', // 12 zero bytes: "\0" inside the raw part
      '________________', // 0xFF bytes
      '-_-_-_-_-_-_-_-_',
      'ICAgICAgICAgICAg', // spaces (0x20)
      'zzzzzzzzzzzzzzzz',
      '0123456789-_abcd',
      ...Array.from({ length: 20 }, () => newId(12)),
    ];
    const ids = [...others, ...compact];
    const r = await set(key(), 'u', ids);
    expect(r.value).toEqual(expectedValue(ids));
    expect(r.ids).toEqual(ids);
    expect(Buffer.from(r.value!.subarray(0, r.value!.indexOf(0))).toString()).toBe(
      others.join(' '),
    );
    // Random mixes of every shape, in any order.
    for (let round = 0; round < 30; round++) {
      const pool = [...others, ...compact, newId(), newId(12)];
      const mix = pool.filter(() => Math.random() < 0.4).sort(() => Math.random() - 0.5);
      if (mix.length === 0) continue;
      const m = await set(key(), 'u', mix);
      expect(m.value).toEqual(expectedValue(mix));
      expect(m.ids).toEqual(expectedOrder(mix));
    }
  });

  it('removes from either part, and the last removal drops the field (HLEN changes by -1)', async () => {
    const k = key();
    const [l1, c1, c2] = [newId(), newId(12), newId(12)];
    await set(k, 'other', [newId(12)]);
    expect((await set(k, 'u', [l1, c1, c2])).result).toBe(1);
    const a = await remove(k, 'u', c1);
    expect([a.result, a.ids]).toEqual([0, [l1, c2]]);
    expect(a.value).toEqual(expectedValue([l1, c2]));
    const b = await remove(k, 'u', l1);
    expect([b.result, b.ids]).toEqual([0, [c2]]);
    expect(b.value).toEqual(expectedValue([c2]));
    // Nothing to remove: nothing written.
    expect((await remove(k, 'u', newId(12))).result).toBe(0);
    const c = await remove(k, 'u', c2);
    expect([c.result, c.value, c.ids]).toEqual([-1, null, []]);
    expect(await redis().hlen(k)).toBe(1);
  });

  /** `count` users of one shard whose ids fall in one user bucket, each with `per` sessions. */
  async function fillBucket(
    e: RedisEngine,
    count: number,
    per: number,
    bytes: number,
  ): Promise<{ shard: number; bucket: number; users: string[] }> {
    const first = newUserId();
    const shard = e.keys.shardOf(first);
    const bucket = userBucketOf(first);
    const users = [first];
    while (users.length < count) {
      const u = newUserId();
      if (e.keys.shardOf(u) === shard && userBucketOf(u) === bucket) users.push(u);
    }
    const now = Date.now();
    for (const u of users) {
      for (let i = 0; i < per; i++)
        expect(await e.create(shard, stored(session(u, now, { id: newId(bytes) })), 10)).toEqual(
          [],
        );
    }
    return { shard, bucket, users };
  }

  it('keeps a bucket of users with 5 sessions of 16-char ids a listpack; 3 of 22-char ids make it a hashtable', async () => {
    // Why the compact part exists: a listpack holds values up to hash-max-listpack-value (64)
    // bytes. 5 compact ids are 61 bytes; three 22-char ids are 68.
    expect(await redis().config('GET', 'hash-max-listpack-value')).toEqual([
      'hash-max-listpack-value',
      '64',
    ]);
    const fresh = async () => {
      const e = new RedisEngine(
        redisSettings({ mode: 'standalone', nodes: [{ host: server.host, port: server.port }] }),
        { name: 'holdfast-test' },
      );
      await e.start();
      return e;
    };
    const compact = await fresh();
    const legacy = await fresh();
    try {
      const c = await fillBucket(compact, 20, 5, 12);
      const bucketKey = compact.keys.users(c.shard, c.users[0]);
      expect(await redis().hlen(bucketKey)).toBe(20);
      expect(await redis().object('ENCODING', bucketKey)).toBe('listpack');
      expect((await compact.listUser(c.shard, c.users[3], Date.now())).length).toBe(5);

      const l = await fillBucket(legacy, 20, 2, 16);
      const legacyKey = legacy.keys.users(l.shard, l.users[0]);
      expect(await redis().object('ENCODING', legacyKey)).toBe('listpack');
      // One user's third 22-char session converts the whole bucket.
      await legacy.create(l.shard, stored(session(l.users[0], Date.now())), 10);
      expect(await redis().object('ENCODING', legacyKey)).toBe('hashtable');
    } finally {
      await Promise.all([compact.stop(), legacy.stop()]);
    }
  });
});

/** The same story on both engines: the memory engine keeps its own structures, Redis the values above. */
describe.each([
  ['Redis', true],
  ['memory', false],
])('compact (16-char) ids on the %s engine', (_name, onRedis) => {
  let server: RedisNode | undefined;
  let engine: SessionEngine;
  let now: number;
  const SHARDS = 8;

  beforeAll(async () => {
    if (onRedis) server = await getProvider().standalone();
  });
  afterAll(async () => {
    await server?.destroy();
  });
  beforeEach(async () => {
    now = Date.now();
    engine = server
      ? new RedisEngine(
          redisSettings({
            mode: 'standalone',
            nodes: [{ host: server.host, port: server.port }],
            shards: SHARDS,
          }),
          { name: 'holdfast-test' },
        )
      : new MemoryEngine(SHARDS, () => now);
    await engine.start();
  });
  afterEach(async () => {
    await engine.stop();
  });

  const shardOf = (u: string) => shardUnder(u, SHARDS);
  const make = (u: string, bytes = 12, o = {}) => session(u, now, { id: newId(bytes), ...o });
  const ids = async (u: string, at = now) =>
    (await engine.listUser(shardOf(u), u, at)).map((s) => s.id);

  it('create past maxPerUser evicts the oldest across a mixed value, 22-char ids first', async () => {
    const u = newUserId();
    const shard = shardOf(u);
    const [l1, l2] = [make(u, 16), make(u, 16)];
    const [c1, c2] = [make(u), make(u)];
    for (const s of [l1, l2, c1, c2]) expect(await engine.create(shard, stored(s), 4)).toEqual([]);
    expect(await ids(u)).toEqual([l1.id, l2.id, c1.id, c2.id]);
    const [c3, c4, c5] = [make(u), make(u), make(u)];
    expect(await engine.create(shard, stored(c3), 4)).toEqual([l1.id]);
    expect(await engine.create(shard, stored(c4), 4)).toEqual([l2.id]);
    expect(await engine.create(shard, stored(c5), 4)).toEqual([c1.id]);
    expect(await ids(u)).toEqual([c2.id, c3.id, c4.id, c5.id]);
    for (const gone of [l1, l2, c1]) expect(await engine.get(shard, gone.id, now)).toBeNull();
    expect(await engine.count(now)).toMatchObject({ sessions: 4, users: 1 });
  });

  it('revoke, rotate, revoke-user (except one) and list over compact ids', async () => {
    const u = newUserId();
    const shard = shardOf(u);
    const [a, b, c, d] = [make(u, 16), make(u), make(u), make(u)];
    for (const s of [a, b, c, d]) await engine.create(shard, stored(s), 10);
    expect(await engine.revoke(shard, c.id, u)).toBe(true);
    expect(await engine.revoke(shard, c.id, u)).toBe(false);
    expect(await ids(u)).toEqual([a.id, b.id, d.id]);
    const next = make(u);
    expect(await engine.rotate(shard, b.id, stored(next), now)).toBe(true);
    expect(await engine.get(shard, b.id, now)).toBeNull();
    // The new id takes the old one's place (its age is the session's).
    expect(await ids(u)).toEqual([a.id, next.id, d.id]);
    expect((await engine.revokeUser(shard, u, d.id)).sort()).toEqual([a.id, next.id].sort());
    expect(await ids(u)).toEqual([d.id]);
    expect(await engine.count(now)).toMatchObject({ sessions: 1, users: 1 });
    expect(await engine.revokeUser(shard, u)).toEqual([d.id]);
    expect(await ids(u)).toEqual([]);
    expect(await engine.count(now)).toMatchObject({ sessions: 0, users: 0 });
  });

  it('sweeps an expired compact id out of a mixed value', async () => {
    const u = newUserId();
    const shard = shardOf(u);
    const [a, b, c] = [make(u, 16), make(u, 12, { expiresAt: now + 100 }), make(u)];
    for (const s of [a, b, c]) await engine.create(shard, stored(s), 10);
    expect(await engine.count(now)).toMatchObject({ sessions: 3, users: 1 });
    now += 200;
    expect(await engine.count(now)).toMatchObject({ sessions: 2, users: 1, expired: 1 });
    expect(await ids(u)).toEqual([a.id, c.id]);
  });

  it('remember-me series with compact ids end with revoke-user and revoke-shard', async () => {
    const [u, v] = [newUserId(), newUserId()];
    const s1 = series(u, now, 'token-1', { id: newId(12) });
    const s2 = series(u, now, 'token-2', { id: newId(12) });
    for (const s of [s1, s2]) expect(await engine.createSeries(shardOf(u), s, 5)).toBe(true);
    const withSeries = make(u, 12, { seriesId: s1.id });
    await engine.create(shardOf(u), stored(withSeries), 10);
    // Revoking the session ends its series (found through the series index), not the other.
    expect(await engine.revoke(shardOf(u), withSeries.id, u)).toBe(true);
    const hash = (t: string) => series(u, now, t).tokenHash;
    expect(
      await engine.useSeries(shardOf(u), s1.id, hash('token-1'), hash('x'), now, 1000),
    ).toEqual({ result: 'missing' });
    expect(await engine.revokeSeries(shardOf(u), s2.id, hash('token-2'), now, 1000)).toBe(true);

    // Every session and series of a shard, legacy and compact ids side by side.
    const shard = shardOf(v);
    const others = Array.from({ length: 20 }, newUserId).filter((x) => shardOf(x) === shard);
    let sessions = 0;
    for (const x of [v, ...others]) {
      for (const bytes of [16, 12, 12]) {
        await engine.create(shard, stored(make(x, bytes)), 10);
        sessions++;
      }
      await engine.createSeries(shard, series(x, now, 't', { id: newId(12) }), 5);
    }
    expect(await engine.revokeShard(shard)).toEqual({ sessions, series: others.length + 1 });
    expect(await ids(v)).toEqual([]);
    expect(await engine.count(now)).toMatchObject({ sessions: 0, users: 0 });
  });

  if (onRedis) {
    it('a reshard move (freeze, import, release) carries compact ids and their series', async () => {
      const e = engine as RedisEngine;
      const TO = SHARDS * 4;
      let u = newUserId();
      while (shardUnder(u, TO) === shardOf(u)) u = newUserId();
      const from = shardOf(u);
      const to = shardUnder(u, TO);
      const made = [make(u, 16), make(u), make(u)];
      for (const s of made) await e.create(from, stored(s), 10);
      const r = series(u, now, 'token-1', { id: newId(12) });
      await e.createSeries(from, r, 5);
      await e.meta();
      await e.connection.writes.hset(
        e.keys.meta(),
        'reshard',
        JSON.stringify({ from: SHARDS, to: TO, cursor: 0 }),
      );
      await e.refreshMeta();
      expect(await e.moveUser(from, to, u, now)).toBe(true);
      const c = e.connection.writes;
      for (const s of made) {
        expect(await c.exists(e.keys.session(to, s.id))).toBe(1);
        expect(await c.exists(e.keys.session(from, s.id))).toBe(0);
      }
      expect(await c.exists(e.keys.series(to, r.id))).toBe(1);
      expect(await c.hexists(e.keys.users(from, u), u)).toBe(0);
      // The moved index holds the same ids in the same order, in the same encoding.
      const value = await c.hgetBuffer(e.keys.users(to, u), u);
      expect(value).toEqual(expectedValue(made.map((s) => s.id)));
      expect(await c.hgetBuffer(e.keys.seriesUsers(to, u), u)).toEqual(expectedValue([r.id]));
      expect((await e.listUser(to, u, now)).map((s) => s.id)).toEqual(made.map((s) => s.id));
      expect(await e.revokeUser(to, u)).toEqual(made.map((s) => s.id));
      expect(await c.exists(e.keys.series(to, r.id))).toBe(0);
    });
  }
});
