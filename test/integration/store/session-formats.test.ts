/**
 * Session records of format 3 and format 4 (record-codec.ts, docs/adr/001) under every Lua script
 * that reads a record at a fixed offset (includes/session-record.lua), on a real Redis: a store
 * keeps format 3 records until an operator switches it, and holds both formats while the older
 * ones expire. Records are written in one format or the other with encodeSession(s, format) over
 * what the engine created, so each script meets each layout whatever the engine writes itself.
 */
import type { RedisSettings } from '../../../src/config/settings';
import type { StoredSession } from '../../../src/store/engine';
import { shardUnder } from '../../../src/store/keys';
import {
  encodeSession,
  SESSION_FORMATS,
  touchSession,
  type SessionFormat,
} from '../../../src/store/record-codec';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { reshard } from '../../../src/store/redis/resharder';
import { getProvider, type RedisNode } from '../../harness';
import {
  MINUTE,
  newUserId,
  redisSettings,
  series,
  session,
  stored,
  storedAs,
} from '../../support/store-fixtures';

const provider = getProvider();
type Made = StoredSession & { secret: string };

describe('session records of format 3 and 4 in the Lua scripts (standalone Redis)', () => {
  let server: RedisNode;
  let engine: RedisEngine;
  let now: number;
  const settings = (o: Partial<RedisSettings> = {}) =>
    redisSettings({ mode: 'standalone', nodes: [{ host: server.host, port: server.port }], ...o });

  beforeAll(async () => {
    server = await provider.standalone();
  });
  afterAll(async () => {
    await server?.destroy();
  });
  beforeEach(async () => {
    engine = new RedisEngine(settings(), { name: 'holdfast-test' });
    await engine.start();
    now = Date.now();
  });
  afterEach(async () => {
    await engine.stop();
  });

  const shardOf = (userId: string) => engine.keys.shardOf(userId);
  const keyOf = (s: StoredSession) => engine.keys.session(shardOf(s.userId), s.id);
  const raw = (s: StoredSession) => engine.connection.writes.getBuffer(keyOf(s));

  /** Creates a session through the engine, then rewrites its record in `format` (TTL kept). */
  async function made(
    format: SessionFormat,
    userId = newUserId(),
    overrides: Partial<StoredSession> = {},
  ): Promise<Made> {
    const s = session(userId, now, overrides);
    expect(await engine.create(shardOf(userId), stored(s), 50)).toEqual([]);
    await rewrite(s, format);
    return s;
  }

  async function rewrite(s: Made, format: SessionFormat): Promise<void> {
    const record = encodeSession(stored(s), format);
    expect(await engine.connection.writes.set(keyOf(s), record, 'KEEPTTL')).toBe('OK');
    expect((await raw(s))![0]).toBe(format);
  }

  describe.each(SESSION_FORMATS)('format %i', (format) => {
    it('reads back what was stored (the hash bytes the format keeps)', async () => {
      const s = await made(format);
      expect(await engine.get(shardOf(s.userId), s.id, now)).toEqual(storedAs(s, format));
    });

    it('touch writes the deadlines at the format’s offset and leaves every other byte', async () => {
      const s = await made(format);
      const shard = shardOf(s.userId);
      const before = (await raw(s))!;
      const at = now + 1000;
      expect(await engine.touch(shard, s.id, at, at + 10 * MINUTE, at)).toBe(true);
      expect(await raw(s)).toEqual(touchSession(before, at, at + 10 * MINUTE));
      expect(await engine.get(shard, s.id, at)).toEqual({
        ...storedAs(s, format),
        lastSeenAt: at,
        expiresAt: at + 10 * MINUTE,
      });
      const c = engine.connection.writes;
      expect(Number(await c.zscore(engine.keys.live(shard, s.id), s.id))).toBe(at + 10 * MINUTE);
    });

    it('touch reads the stored deadline at the format’s offset: an expired record stays expired', async () => {
      const s = await made(format, newUserId(), { expiresAt: now + 100 });
      const shard = shardOf(s.userId);
      const before = await raw(s);
      expect(await engine.touch(shard, s.id, now + 200, now + 30 * MINUTE, now + 200)).toBe(false);
      expect(await engine.touch(shard, s.id, now + 99, now + 30 * MINUTE, now + 99)).toBe(true);
      expect(await raw(s)).not.toEqual(before);
      expect((await raw(s))![0]).toBe(format);
    });

    it('revoke reads the owner (a mismatch is refused) and ends the session’s series', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const r = series(userId, now, 'token-1');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      const s = await made(format, userId, { seriesId: r.id });
      expect(await engine.revoke(shard, s.id, newUserId())).toBe(false);
      expect(await engine.get(shard, s.id, now)).not.toBeNull();
      expect(await engine.revoke(shard, s.id, userId)).toBe(true);
      expect(await engine.get(shard, s.id, now)).toBeNull();
      expect(await engine.connection.writes.exists(engine.keys.series(shard, r.id))).toBe(0);
      expect(await engine.listUser(shard, userId, now)).toEqual([]);
    });

    it('a create above the epoch reads each record’s credential version: older ones end, one at the version stays (ADR 273)', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const old = await made(format, userId);
      const kept = await made(format, userId);
      // Two bytes of version, as a user past 255 credential changes has; the epoch is still 0.
      await rewrite({ ...kept, credentialVersion: 300 }, format);
      const next = session(userId, now, { credentialVersion: 300 });
      expect(await engine.create(shard, stored(next), 50)).toEqual([old.id]);
      expect(await engine.get(shard, old.id, now)).toBeNull();
      expect((await engine.listUser(shard, userId, now)).map((x) => x.id)).toEqual([
        kept.id,
        next.id,
      ]);
      const later = session(userId, now, { credentialVersion: 301 });
      expect(await engine.create(shard, stored(later), 50)).toEqual([kept.id, next.id]);
    });

    it('rotate replaces a live record and refuses an expired one', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const a = await made(format, userId);
      const next = session(userId, now, { method: 'rotation' });
      expect(await engine.rotate(shard, a.id, stored(next), now)).toBe(true);
      expect(await engine.get(shard, a.id, now)).toBeNull();
      expect((await engine.get(shard, next.id, now))?.id).toBe(next.id);

      const e = await made(format, userId, { expiresAt: now + 100 });
      const other = session(userId, now);
      expect(await engine.rotate(shard, e.id, stored(other), now + 200)).toBe(false);
      expect(await engine.get(shard, other.id, now)).toBeNull();
      expect((await engine.listUser(shard, userId, now)).map((x) => x.id)).toEqual([next.id, e.id]);
    });

    it('sweep reads deadline and owner: a renewed record is re-scored, an expired one swept', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const renewed = await made(format, userId, { expiresAt: now + 100 });
      const expired = await made(format, userId, { expiresAt: now + 100 });
      // Renewed behind the index's back: only the record's own deadline says it is alive.
      await rewrite({ ...renewed, expiresAt: now + 30 * MINUTE }, format);
      expect(await engine.sweep(now + 200)).toMatchObject({ expired: 1 });
      const c = engine.connection.writes;
      expect(Number(await c.zscore(engine.keys.live(shard, renewed.id), renewed.id))).toBe(
        now + 30 * MINUTE,
      );
      expect(await c.exists(keyOf(expired))).toBe(0);
      expect((await engine.listUser(shard, userId, now + 200)).map((x) => x.id)).toEqual([
        renewed.id,
      ]);
      expect(await engine.count(now + 200)).toMatchObject({ sessions: 1, users: 1, expired: 0 });
      expect(engine.stats.malformed).toBe(0);
    });

    it('create evicts the new session’s siblings first (series read from the record)', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const mine = series(userId, now, 'mine');
      const theirs = series(userId, now, 'theirs');
      expect(await engine.createSeries(shard, mine, 50)).toBe(true);
      expect(await engine.createSeries(shard, theirs, 50)).toBe(true);
      const oldest = await made(format, userId);
      const sibling = await made(format, userId, { seriesId: mine.id });
      const device = await made(format, userId, { seriesId: theirs.id });
      const next = session(userId, now, { seriesId: mine.id });
      // Over by one: the sibling goes, not the oldest.
      expect(await engine.create(shard, stored(next), 3)).toEqual([sibling.id]);
      // Over by one again: the oldest other goes; then the device, ending its series.
      expect(await engine.create(shard, stored(session(userId, now)), 3)).toEqual([oldest.id]);
      expect(await engine.create(shard, stored(session(userId, now)), 3)).toEqual([device.id]);
      const c = engine.connection.writes;
      expect(await c.exists(engine.keys.series(shard, theirs.id))).toBe(0);
      expect(await c.exists(engine.keys.series(shard, mine.id))).toBe(1);
    });
  });

  it('list-user and revoke-user read a user’s records of both formats together', async () => {
    const userId = newUserId();
    const shard = shardOf(userId);
    const a = await made(3, userId);
    const b = await made(4, userId);
    const c = await made(3, userId);
    expect(await engine.listUser(shard, userId, now)).toEqual([
      storedAs(a, 3),
      storedAs(b, 4),
      storedAs(c, 3),
    ]);
    expect(await engine.count(now)).toMatchObject({ sessions: 3, users: 1 });
    expect(await engine.revokeUser(shard, userId, b.id)).toEqual([a.id, c.id]);
    expect(await engine.listUser(shard, userId, now)).toEqual([storedAs(b, 4)]);
    expect(await engine.revokeUser(shard, userId)).toEqual([b.id]);
    expect(await engine.count(now)).toMatchObject({ sessions: 0, users: 0 });
  });

  it('reshard moves records of both formats byte for byte and drops the expired ones', async () => {
    const from = 4;
    const to = 8;
    await engine.stop();
    engine = new RedisEngine(settings({ shards: from }), { name: 'holdfast-test' });
    await engine.start();
    await engine.meta();
    const movers: string[] = [];
    while (movers.length < 4) {
      const u = newUserId();
      if (shardUnder(u, to) !== shardUnder(u, from)) movers.push(u);
    }
    const live = [await made(3, movers[0]), await made(4, movers[1])];
    const expired = [
      await made(3, movers[2], { expiresAt: now + 50 }),
      await made(4, movers[3], { expiresAt: now + 50 }),
    ];
    const records = await Promise.all(live.map(raw));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The expired records are still there (kept past their deadline for the sweep).
    for (const s of expired) expect(await raw(s)).not.toBeNull();

    expect(await reshard(engine, to, { announceWaitMs: 0 })).toMatchObject({ done: true });
    const c = engine.connection.writes;
    for (const [i, s] of live.entries()) {
      const moved = engine.keys.session(shardUnder(s.userId, to), s.id);
      expect(await c.getBuffer(moved)).toEqual(records[i]);
      // A cookie made under the old count still reads it (ADR 260).
      const got = await engine.get(shardUnder(s.userId, from), s.id, Date.now());
      expect(got).toEqual(storedAs(s, i === 0 ? 3 : 4));
    }
    for (const s of expired) {
      const moved = engine.keys.session(shardUnder(s.userId, to), s.id);
      expect(await c.exists(moved)).toBe(0);
    }
    expect(await engine.count(Date.now())).toMatchObject({ sessions: 2, users: 2 });
  });
});
