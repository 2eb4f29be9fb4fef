/**
 * The SessionEngine contract: one suite, run against the memory engine (unit) and the Redis
 * engine on a standalone server, a Sentinel set and a cluster (integration). Every engine must
 * behave the same; the cases that look beneath the engine (raw bytes, slots) need `raw`.
 */
import type { SessionEngine, StoredSession } from '../../../src/store/engine';
import type { KeyLayout } from '../../../src/store/keys';
import { encodeSession, SESSION_LAYOUT } from '../../../src/store/record-codec';
import { randomMix } from '../count-model';
import {
  formatOf,
  MINUTE,
  newUserId,
  series,
  session,
  sha256,
  stored,
  storedAs,
  storedHash,
} from '../store-fixtures';

/** Direct access to the store under the engine (a real client, never a mock). */
export interface RawStore {
  get(key: string): Promise<Buffer | null>;
  set(key: string, value: Buffer | string): Promise<void>;
  /** Writes a HASH where a record belongs (a foreign value of the wrong type). */
  setHash(key: string, field: string, value: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  zscore(key: string, member: string): Promise<number | null>;
  /** CLUSTER KEYSLOT, on a cluster only. */
  keySlot?(key: string): Promise<number>;
  /** A shard's counter value and what its indexes hold (sum of ZCARD, sum of HLEN; ADR 180). */
  shardCounter?(shard: number): Promise<{ counter: string | null; entries: number; users: number }>;
}

export interface ContractTarget {
  readonly engine: SessionEngine;
  readonly keys: KeyLayout;
  readonly raw?: RawStore;
  close(): Promise<void>;
}

/** Makes a started engine on a fresh key prefix (counts start at zero). */
export type ContractFactory = () => Promise<ContractTarget>;

const GRACE = 30_000;

export function engineContract(factory: ContractFactory): void {
  let t: ContractTarget;
  let engine: SessionEngine;
  let now: number;

  beforeEach(async () => {
    t = await factory();
    engine = t.engine;
    // Real time: Redis drops keys by the wall clock (PXAT), so deadlines must lie around it.
    now = Date.now();
  });
  afterEach(async () => {
    await t.close();
  });

  const shardOf = (userId: string) => t.keys.shardOf(userId);
  /** What the engine reads back of a session it wrote (its format keeps 32 or 16 hash bytes). */
  const readBack = (s: StoredSession & { secret?: string }) => storedAs(s, formatOf(engine));
  async function created(userId = newUserId(), overrides: Partial<StoredSession> = {}) {
    const s = session(userId, now, overrides);
    expect(await engine.create(shardOf(userId), stored(s), 50)).toEqual([]);
    return s;
  }

  describe('create and get', () => {
    it('returns what was stored', async () => {
      const s = await created();
      expect(await engine.get(shardOf(s.userId), s.id, now)).toEqual(readBack(s));
    });

    it('returns null for an unknown id', async () => {
      const userId = newUserId();
      expect(await engine.get(shardOf(userId), 'AAAAAAAAAAAAAAAAAAAAAA', now)).toBeNull();
    });

    it('keeps method and long user agents (cut at 255 bytes)', async () => {
      const s = await created(newUserId(), { method: 'remember', userAgent: 'é'.repeat(200) });
      const got = await engine.get(shardOf(s.userId), s.id, now);
      expect(got?.method).toBe('remember');
      expect(got?.userAgent).toBe('é'.repeat(127));
    });
  });

  describe('touch', () => {
    it('writes exactly the deadlines it is given, within the renewal interval', async () => {
      const s = await created();
      const shard = shardOf(s.userId);
      // Policy (renewal throttling) is not the engine's: an early touch is applied as given.
      expect(await engine.touch(shard, s.id, now + 1000, now + 10 * MINUTE, now + 1000)).toBe(true);
      expect(await engine.get(shard, s.id, now + 1000)).toEqual({
        ...readBack(s),
        lastSeenAt: now + 1000,
        expiresAt: now + 10 * MINUTE,
      });
    });

    it('extends a session past its old deadline when renewed after the interval', async () => {
      const s = await created(newUserId(), { expiresAt: now + 10 * MINUTE });
      const shard = shardOf(s.userId);
      const at = now + 6 * MINUTE;
      expect(await engine.touch(shard, s.id, at, at + 30 * MINUTE, at)).toBe(true);
      const later = now + 20 * MINUTE;
      expect(await engine.get(shard, s.id, later)).toMatchObject({
        lastSeenAt: at,
        expiresAt: at + 30 * MINUTE,
      });
      if (t.raw) expect(await t.raw.zscore(t.keys.live(shard, s.id), s.id)).toBe(at + 30 * MINUTE);
    });

    it('does not resurrect an expired or revoked session', async () => {
      const s = await created(newUserId(), { expiresAt: now + 1000 });
      const shard = shardOf(s.userId);
      expect(await engine.touch(shard, s.id, now + 2000, now + 30 * MINUTE, now + 2000)).toBe(
        false,
      );
      expect(await engine.get(shard, s.id, now + 2000)).toBeNull();

      const r = await created();
      await engine.revoke(shardOf(r.userId), r.id);
      expect(await engine.touch(shardOf(r.userId), r.id, now, now + MINUTE, now)).toBe(false);
      expect(await engine.get(shardOf(r.userId), r.id, now)).toBeNull();
      if (t.raw) expect(await t.raw.exists(t.keys.session(shardOf(r.userId), r.id))).toBe(false);
    });
  });

  describe('expiry', () => {
    it('checks the idle deadline on every read, even while the stored record still exists', async () => {
      const s = await created(newUserId(), { expiresAt: now + 1000 });
      const shard = shardOf(s.userId);
      expect(await engine.get(shard, s.id, now + 999)).not.toBeNull();
      expect(await engine.get(shard, s.id, now + 1000)).toBeNull();
      expect(await engine.get(shard, s.id, now + 60_000)).toBeNull();
      if (t.raw) expect(await t.raw.exists(t.keys.session(shard, s.id))).toBe(true);
    });

    it('ends a session at its absolute deadline: renewal capped there cannot pass it', async () => {
      const absolute = now + 2000;
      const s = await created(newUserId(), { expiresAt: now + 1000, absoluteExpiresAt: absolute });
      const shard = shardOf(s.userId);
      expect(await engine.touch(shard, s.id, now + 500, absolute, now + 500)).toBe(true);
      expect(await engine.get(shard, s.id, absolute - 1)).toMatchObject({ expiresAt: absolute });
      expect(await engine.get(shard, s.id, absolute)).toBeNull();
      expect(await engine.touch(shard, s.id, absolute, absolute + MINUTE, absolute)).toBe(false);
    });
  });

  describe('revoke', () => {
    it('ends a session once', async () => {
      const s = await created();
      const shard = shardOf(s.userId);
      expect(await engine.revoke(shard, s.id)).toBe(true);
      expect(await engine.get(shard, s.id, now)).toBeNull();
      expect(await engine.revoke(shard, s.id)).toBe(false);
      expect(await engine.listUser(shard, s.userId, now)).toEqual([]);
    });

    it('with an owner, ends only that owner’s session', async () => {
      const s = await created();
      const shard = shardOf(s.userId);
      expect(await engine.revoke(shard, s.id, 'someone-else')).toBe(false);
      expect(await engine.get(shard, s.id, now)).not.toBeNull();
      expect(await engine.revoke(shard, s.id, s.userId)).toBe(true);
      expect(await engine.get(shard, s.id, now)).toBeNull();
    });

    it('stays revoked under 50 touches racing the revoke', async () => {
      const s = await created();
      const shard = shardOf(s.userId);
      const touches = Array.from({ length: 50 }, (_, i) =>
        engine.touch(shard, s.id, now + i, now + 60 * MINUTE, now + i),
      );
      const revoked = engine.revoke(shard, s.id);
      const more = Array.from({ length: 25 }, (_, i) =>
        engine.touch(shard, s.id, now + 100 + i, now + 60 * MINUTE, now + 100 + i),
      );
      await Promise.all([...touches, revoked, ...more]);
      expect(await revoked).toBe(true);
      expect(await engine.get(shard, s.id, now + 200)).toBeNull();
      expect(await engine.listUser(shard, s.userId, now + 200)).toEqual([]);
      if (t.raw) {
        expect(await t.raw.exists(t.keys.session(shard, s.id))).toBe(false);
        expect(await t.raw.zscore(t.keys.live(shard, s.id), s.id)).toBeNull();
      }
    });
  });

  describe('revokeUser', () => {
    it('ends every session of the user but the one kept, and every remember-me series', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const [a, b, c] = [await created(userId), await created(userId), await created(userId)];
      const other = await created();
      const r = series(userId, now, 'token-1');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);

      expect(await engine.revokeUser(shard, userId, b.id)).toEqual([a.id, c.id]);
      expect((await engine.listUser(shard, userId, now)).map((s) => s.id)).toEqual([b.id]);
      expect(await engine.get(shardOf(other.userId), other.id, now)).not.toBeNull();
      expect(
        await engine.useSeries(shard, r.id, sha256('token-1'), sha256('t2'), now, GRACE),
      ).toEqual({
        result: 'missing',
      });

      expect(await engine.revokeUser(shard, userId)).toEqual([b.id]);
      expect(await engine.listUser(shard, userId, now)).toEqual([]);
      expect(await engine.revokeUser(shard, userId)).toEqual([]);
      // Nothing of the user is left in the indexes: only `other` counts.
      expect(await engine.count(now)).toEqual({ sessions: 1, users: 1, expired: 0 });
    });
  });

  describe('revokeShard', () => {
    it('ends every session and series of its shard, and nothing of another shard', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const a = await created(userId);
      const b = await created(userId);
      const r = series(userId, now, 'token-1');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      // A user of another shard (the layout spreads users over every shard).
      let otherId = newUserId();
      while (shardOf(otherId) === shard) otherId = newUserId();
      const other = await created(otherId);
      const otherSeries = series(otherId, now, 'token-2');
      expect(await engine.createSeries(shardOf(otherId), otherSeries, 50)).toBe(true);

      expect(await engine.revokeShard(shard)).toEqual({ sessions: 2, series: 1 });
      expect(await engine.get(shard, a.id, now)).toBeNull();
      expect(await engine.get(shard, b.id, now)).toBeNull();
      expect(await engine.listUser(shard, userId, now)).toEqual([]);
      expect(
        await engine.useSeries(shard, r.id, sha256('token-1'), sha256('t2'), now, GRACE),
      ).toEqual({ result: 'missing' });
      if (t.raw) expect(await t.raw.exists(t.keys.session(shard, a.id))).toBe(false);
      // Nothing of the shard is left in its indexes: only the other user counts.
      expect(await engine.count(now)).toEqual({ sessions: 1, users: 1, expired: 0 });
      expect(await engine.get(shardOf(otherId), other.id, now)).not.toBeNull();
      expect(
        (
          await engine.useSeries(
            shardOf(otherId),
            otherSeries.id,
            sha256('token-2'),
            sha256('t3'),
            now,
            GRACE,
          )
        ).result,
      ).toBe('rotated');

      expect(await engine.revokeShard(shard)).toEqual({ sessions: 0, series: 0 });
      // The shard works as before: a new sign-in gets a session.
      const c = await created(userId);
      expect((await engine.listUser(shard, userId, now)).map((s) => s.id)).toEqual([c.id]);
    });
  });

  describe('listUser', () => {
    it('lists the user’s live sessions oldest first', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const a = await created(userId);
      const b = await created(userId, { expiresAt: now + 1000 });
      const c = await created(userId);
      await created();
      expect(await engine.listUser(shard, userId, now)).toEqual([a, b, c].map(readBack));
      expect((await engine.listUser(shard, userId, now + 2000)).map((s) => s.id)).toEqual([
        a.id,
        c.id,
      ]);
      expect(await engine.listUser(shard, newUserId(), now)).toEqual([]);
    });
  });

  describe('count', () => {
    it('counts live sessions and users over every shard, sweeping expired entries', async () => {
      const [u1, u2, u3] = [newUserId(), newUserId(), newUserId()];
      await created(u1);
      await created(u1);
      await created(u2);
      const gone = await created(u3, { expiresAt: now + 100 });
      expect(await engine.count(now)).toEqual({ sessions: 4, users: 3, expired: 0 });
      expect(await engine.count(now + 200)).toEqual({ sessions: 3, users: 2, expired: 1 });
      expect(await engine.count(now + 200)).toEqual({ sessions: 3, users: 2, expired: 0 });
      expect(await engine.get(shardOf(u3), gone.id, now)).toBeNull();
      if (t.raw) expect(await t.raw.exists(t.keys.session(shardOf(u3), gone.id))).toBe(false);
    });

    it('keeps a renewed session that the index saw as due', async () => {
      const s = await created(newUserId(), { expiresAt: now + 100 });
      const shard = shardOf(s.userId);
      await engine.touch(shard, s.id, now + 50, now + MINUTE, now + 50);
      expect(await engine.count(now + 200)).toEqual({ sessions: 1, users: 1, expired: 0 });
    });
  });

  describe('live counter (ADR 180)', () => {
    /** On Redis: every shard's counter equals its indexes (entries and users). */
    async function countersMatchIndexes() {
      if (!t.raw?.shardCounter) return;
      for (let shard = 0; shard < t.keys.shards; shard++) {
        const { counter, entries, users } = await t.raw.shardCounter(shard);
        // Every caller counted first: the count builds any counter that was absent.
        expect(counter).not.toBeNull();
        const [e, u] = counter!.split(' ').map(Number);
        expect({ shard, entries: e, users: u }).toEqual({ shard, entries, users });
      }
    }

    it.each([1, 2, 3])(
      'counts exactly after a seeded random mix of operations and expiries (seed %i)',
      async (seed) => {
        let counts = 0;
        const { model, now: end } = await randomMix({
          engine,
          shardOf,
          seed,
          operations: 400,
          users: 24,
          start: now,
          maxPerUser: 3,
          counted: (got, expected) => {
            counts++;
            expect(got).toEqual(expected);
          },
        });
        // The mix did count, expire, sweep and revoke (not only create).
        expect(counts).toBeGreaterThan(10);
        expect(model.sessions.size).toBeGreaterThan(0);
        await countersMatchIndexes();
        // No counter was ever found to differ from its indexes (a repair would hide a bug).
        expect(engine.stats.countersRepaired).toBe(0);
        // Long after: everything has expired and is swept.
        expect(await engine.count(end + 10 * MINUTE)).toEqual({
          sessions: 0,
          users: 0,
          expired: model.sessions.size,
        });
        await countersMatchIndexes();
      },
    );

    it('stays exact under concurrent creates, rotations, revokes and counts', async () => {
      const users = Array.from({ length: 6 }, () => newUserId());
      const made = users
        .slice(0, 12)
        .flatMap((u) => Array.from({ length: 8 }, () => session(u, now)));
      // Concurrent creates of one user race for the limit: each reply says what it evicted.
      const evicted = (
        await Promise.all([
          ...made.map((s) => engine.create(shardOf(s.userId), stored(s), 5)),
          engine.count(now),
          engine.count(now),
        ])
      )
        .filter((r): r is string[] => Array.isArray(r))
        .flat();
      const alive = new Set(made.map((s) => s.id).filter((id) => !evicted.includes(id)));
      expect(alive.size).toBe(users.length * 5);
      expect(await engine.count(now)).toEqual({ sessions: 30, users: 6, expired: 0 });

      const ids = [...alive];
      const owner = new Map(made.map((s) => [s.id, s.userId]));
      const rotated = ids.slice(0, 10).map((id) => ({
        id,
        next: session(owner.get(id)!, now, { expiresAt: now + 100 }),
      }));
      const results = await Promise.all([
        ...rotated.map(({ id, next }) =>
          engine.rotate(shardOf(next.userId), id, stored(next), now),
        ),
        ...ids.slice(10, 20).map((id) => engine.revoke(shardOf(owner.get(id)!), id)),
        // The same sessions revoked twice at once: only one of each pair ends something.
        ...ids.slice(10, 20).map((id) => engine.revoke(shardOf(owner.get(id)!), id)),
        engine.count(now),
      ]);
      expect(results.slice(0, 10)).toEqual(Array(10).fill(true));
      expect(results.slice(10, 30).filter((r) => r === true)).toHaveLength(10);
      const usersLeft = new Set(
        ids
          .slice(0, 10)
          .concat(ids.slice(20))
          .map((id) => owner.get(id)),
      ).size;
      expect(await engine.count(now)).toEqual({ sessions: 20, users: usersLeft, expired: 0 });
      // The ten rotated sessions expire at now + 100.
      expect(await engine.count(now + 200)).toEqual({
        sessions: 10,
        users: new Set(ids.slice(20).map((id) => owner.get(id))).size,
        expired: 10,
      });
      await countersMatchIndexes();
      expect(engine.stats.countersRepaired).toBe(0);
    });

    it('stays exact when more entries are due than one count sweeps', async () => {
      // 600 expired in one shard: past the Redis engine's sweep limit (500 per shard and count).
      const shard = shardOf(newUserId());
      const users: string[] = [];
      while (users.length < 13) {
        const u = newUserId();
        if (shardOf(u) === shard) users.push(u);
      }
      const made = users
        .slice(0, 12)
        .flatMap((u) =>
          Array.from({ length: 50 }, () => session(u, now, { expiresAt: now + 100 })),
        );
      await Promise.all(made.map((s) => engine.create(shard, stored(s), 60)));
      const kept = await created(users[12]);
      expect(await engine.count(now)).toEqual({ sessions: 601, users: 13, expired: 0 });
      const first = await engine.count(now + 200);
      expect(first).toMatchObject({ sessions: 1 });
      // Redis sweeps 500 and subtracts the 100 still due; the memory engine sweeps all at once.
      expect(first.expired).toBe(engine.kind === 'redis' ? 500 : 600);
      const second = await engine.count(now + 200);
      expect(second).toEqual({ sessions: 1, users: 1, expired: 600 - first.expired });
      expect(await engine.get(shard, kept.id, now + 200)).not.toBeNull();
      await countersMatchIndexes();
    });

    it('stays exact when a renewal moves a deadline earlier', async () => {
      const s = await created(newUserId(), { expiresAt: now + 10 * MINUTE });
      expect(await engine.count(now)).toEqual({ sessions: 1, users: 1, expired: 0 });
      // Shorter settings since: the renewal sets an earlier deadline than the stored one.
      expect(await engine.touch(shardOf(s.userId), s.id, now, now + 100, now)).toBe(true);
      expect(await engine.count(now + 200)).toEqual({ sessions: 0, users: 0, expired: 1 });
    });
  });

  describe('maxPerUser', () => {
    it('revokes the oldest sessions past the limit and returns their ids', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const a = session(userId, now);
      const b = session(userId, now);
      const c = session(userId, now);
      expect(await engine.create(shard, stored(a), 2)).toEqual([]);
      expect(await engine.create(shard, stored(b), 2)).toEqual([]);
      expect(await engine.create(shard, stored(c), 2)).toEqual([a.id]);
      expect(await engine.get(shard, a.id, now)).toBeNull();
      expect((await engine.listUser(shard, userId, now)).map((s) => s.id)).toEqual([b.id, c.id]);
      expect(await engine.count(now)).toEqual({ sessions: 2, users: 1, expired: 0 });
    });
  });

  describe('rotate', () => {
    it('replaces the old session by the new one in place', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const a = await created(userId);
      const b = await created(userId);
      const next = session(userId, now, { method: 'rotation' });
      expect(await engine.rotate(shard, a.id, stored(next), now)).toBe(true);
      expect(await engine.get(shard, a.id, now)).toBeNull();
      expect(await engine.get(shard, next.id, now)).toEqual(readBack(next));
      expect((await engine.listUser(shard, userId, now)).map((s) => s.id)).toEqual([next.id, b.id]);
      expect(await engine.count(now)).toEqual({ sessions: 2, users: 1, expired: 0 });
    });

    it('does nothing for a revoked or expired session', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const a = await created(userId);
      await engine.revoke(shard, a.id);
      const next = session(userId, now);
      expect(await engine.rotate(shard, a.id, stored(next), now)).toBe(false);
      expect(await engine.get(shard, next.id, now)).toBeNull();

      const e = await created(userId, { expiresAt: now + 100 });
      expect(await engine.rotate(shard, e.id, stored(next), now + 100)).toBe(false);
      expect(await engine.get(shard, next.id, now)).toBeNull();
      expect(await engine.listUser(shard, userId, now)).toEqual([readBack(e)]);
    });
  });

  describe('remember-me series', () => {
    it('rotates on the current token, accepts the previous one within grace, and sees theft after', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const r = series(userId, now, 'token-1');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      const use = (token: string, next: string, at: number) =>
        engine.useSeries(shard, r.id, sha256(token), sha256(next), at, GRACE);

      const credentialVersion = 0;
      expect(await use('token-1', 'token-2', now + 1000)).toEqual({
        result: 'rotated',
        userId,
        credentialVersion,
      });
      expect(await use('token-1', 'token-x', now + 1000 + GRACE)).toEqual({
        result: 'grace',
        userId,
        credentialVersion,
      });
      expect(await use('token-2', 'token-3', now + 2000)).toEqual({
        result: 'rotated',
        userId,
        credentialVersion,
      });
      // token-2 is now the previous token, rotated at now + 2000: past grace it is theft.
      expect(await use('token-2', 'token-x', now + 2001 + GRACE)).toEqual({
        result: 'theft',
        userId,
      });
      expect(await use('token-3', 'token-4', now + 3000 + GRACE)).toEqual({ result: 'missing' });
    });

    it('treats an unknown token on a known series as theft', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const r = series(userId, now, 'token-1');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      expect(
        await engine.useSeries(shard, r.id, sha256('forged'), sha256('n'), now, GRACE),
      ).toEqual({
        result: 'theft',
        userId,
      });
      expect(
        await engine.useSeries(shard, r.id, sha256('token-1'), sha256('n'), now, GRACE),
      ).toEqual({
        result: 'missing',
      });
    });

    it('reports missing for an unknown or expired series, and revokes once', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      expect(await engine.useSeries(shard, 'nope', sha256('a'), sha256('b'), now, GRACE)).toEqual({
        result: 'missing',
      });
      const r = { ...series(userId, now, 'token-1'), expiresAt: now + 60_000 };
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      expect(
        await engine.useSeries(shard, r.id, sha256('token-1'), sha256('b'), now + 60_000, GRACE),
      ).toEqual({ result: 'missing' });
      const token = sha256('token-1');
      expect(await engine.revokeSeries(shard, r.id, token, now, GRACE)).toBe(true);
      expect(await engine.revokeSeries(shard, r.id, token, now, GRACE)).toBe(false);
      expect(
        await engine.useSeries(shard, r.id, sha256('token-1'), sha256('b'), now, GRACE),
      ).toEqual({
        result: 'missing',
      });
    });
  });

  describe('credential epoch (ADR 040)', () => {
    it('revokeUser with an epoch ends every session and refuses any created below it afterwards', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const old = await created(userId);
      const other = await created();
      expect(await engine.revokeUser(shard, userId, undefined, 1)).toEqual([old.id]);

      const stale = session(userId, now, { credentialVersion: 0 });
      expect(await engine.create(shard, stored(stale), 50)).toBeNull();
      expect(await engine.get(shard, stale.id, now)).toBeNull();
      expect(await engine.listUser(shard, userId, now)).toEqual([]);
      if (t.raw) {
        expect(await t.raw.exists(t.keys.session(shard, stale.id))).toBe(false);
        expect(await t.raw.zscore(t.keys.live(shard, stale.id), stale.id)).toBeNull();
        expect(await t.raw.exists(t.keys.credentials(shard, userId))).toBe(true);
      }
      const fresh = session(userId, now, { credentialVersion: 1 });
      expect(await engine.create(shard, stored(fresh), 50)).toEqual([]);
      expect(await engine.get(shard, fresh.id, now)).toEqual(readBack(fresh));

      // Never lowered; and another user is not concerned.
      await engine.revokeUser(shard, userId, fresh.id, 0);
      expect(await engine.create(shard, stored(session(userId, now)), 50)).toBeNull();
      expect(await engine.get(shardOf(other.userId), other.id, now)).not.toBeNull();
      expect(await engine.count(now)).toEqual({ sessions: 2, users: 2, expired: 0 });
    });

    it('keeps the excepted session but refuses to rotate it to a version below the epoch', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const mine = await created(userId);
      const theirs = await created(userId);
      expect(await engine.revokeUser(shard, userId, mine.id, 2)).toEqual([theirs.id]);
      const stale = session(userId, now, { method: 'rotation', credentialVersion: 1 });
      expect(await engine.rotate(shard, mine.id, stored(stale), now)).toBe(false);
      expect(await engine.get(shard, stale.id, now)).toBeNull();
      expect(await engine.get(shard, mine.id, now)).not.toBeNull();
      const next = session(userId, now, { method: 'rotation', credentialVersion: 2 });
      expect(await engine.rotate(shard, mine.id, stored(next), now)).toBe(true);
      expect((await engine.listUser(shard, userId, now)).map((s) => s.id)).toEqual([next.id]);
    });

    it('creates under the old version racing an epoch raise never leave a session behind', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const attempts = Array.from({ length: 30 }, () => session(userId, now));
      const results = await Promise.all([
        ...attempts.slice(0, 15).map((s) => engine.create(shard, stored(s), 50)),
        engine.revokeUser(shard, userId, undefined, 1),
        ...attempts.slice(15).map((s) => engine.create(shard, stored(s), 50)),
      ]);
      // Each create landed either before the raise (and was ended by it) or after (refused).
      expect(results.some((r) => r === null)).toBe(true);
      expect(await engine.listUser(shard, userId, now)).toEqual([]);
      for (const s of attempts) expect(await engine.get(shard, s.id, now)).toBeNull();
    });

    it('a create above the epoch finishes a revocation that never landed: older sessions and series end, the epoch rises (ADR 273)', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const a = await created(userId);
      const b = await created(userId);
      const r = series(userId, now, 'token-r');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      const other = await created();
      // A new password (version 2) was written; its revokeUser never ran. The first login under it:
      const next = session(userId, now, { credentialVersion: 2 });
      expect(await engine.create(shard, stored(next), 50)).toEqual([a.id, b.id]);
      for (const s of [a, b]) expect(await engine.get(shard, s.id, now)).toBeNull();
      expect((await engine.listUser(shard, userId, now)).map((s) => s.id)).toEqual([next.id]);
      expect(
        await engine.useSeries(shard, r.id, sha256('token-r'), sha256('n'), now, GRACE),
      ).toEqual({ result: 'missing' });
      if (t.raw) expect(await t.raw.exists(t.keys.series(shard, r.id))).toBe(false);
      // The epoch rose with it: a login that read the old version gets nothing.
      const stale = session(userId, now, { credentialVersion: 1 });
      expect(await engine.create(shard, stored(stale), 50)).toBeNull();
      // At the epoch nothing more ends; a series under it is kept too.
      const r2 = series(userId, now, 'token-2', { credentialVersion: 2 });
      expect(await engine.createSeries(shard, r2, 50)).toBe(true);
      expect(
        await engine.create(shard, stored(session(userId, now, { credentialVersion: 2 })), 50),
      ).toEqual([]);
      expect(await engine.get(shardOf(other.userId), other.id, now)).not.toBeNull();
      expect(await engine.count(now)).toEqual({ sessions: 3, users: 2, expired: 0 });
      expect(
        await engine.useSeries(shard, r2.id, sha256('token-2'), sha256('n'), now, GRACE),
      ).toMatchObject({ result: 'rotated', credentialVersion: 2 });
    });

    it('series: refused below the epoch; use passes the series version on; a raise ends them all', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const use = (id: string, token: string, next: string) =>
        engine.useSeries(shard, id, sha256(token), sha256(next), now, GRACE);
      const r0 = series(userId, now, 'token-0');
      expect(await engine.createSeries(shard, r0, 50)).toBe(true);
      await engine.revokeUser(shard, userId, undefined, 3);
      expect(await use(r0.id, 'token-0', 'n')).toEqual({ result: 'missing' });

      const stale = series(userId, now, 'token-1', { credentialVersion: 2 });
      expect(await engine.createSeries(shard, stale, 50)).toBe(false);
      expect(await use(stale.id, 'token-1', 'n')).toEqual({ result: 'missing' });
      if (t.raw) expect(await t.raw.exists(t.keys.series(shard, stale.id))).toBe(false);

      const fresh = series(userId, now, 'token-2', { credentialVersion: 3 });
      expect(await engine.createSeries(shard, fresh, 50)).toBe(true);
      expect(await use(fresh.id, 'token-2', 'token-3')).toEqual({
        result: 'rotated',
        userId,
        credentialVersion: 3,
      });
    });
  });

  describe('remember-me series belong to a session (ADR 041)', () => {
    it('revoking a session ends its series, and only that one', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const [r1, r2] = [series(userId, now, 'token-1'), series(userId, now, 'token-2')];
      for (const r of [r1, r2]) expect(await engine.createSeries(shard, r, 50)).toBe(true);
      const s1 = await created(userId, { seriesId: r1.id });
      const s2 = await created(userId, { seriesId: r2.id });
      expect(await engine.get(shard, s1.id, now)).toMatchObject({ seriesId: r1.id });

      expect(await engine.revoke(shard, s1.id, userId)).toBe(true);
      const use = (r: { id: string }, token: string) =>
        engine.useSeries(shard, r.id, sha256(token), sha256('next'), now, GRACE);
      expect(await use(r1, 'token-1')).toEqual({ result: 'missing' });
      if (t.raw) expect(await t.raw.exists(t.keys.series(shard, r1.id))).toBe(false);
      expect(await use(r2, 'token-2')).toMatchObject({ result: 'rotated' });
      expect(await engine.get(shard, s2.id, now)).not.toBeNull();
      // The series index lost r1 only: revoking r2's session empties it.
      expect(await engine.revoke(shard, s2.id)).toBe(true);
      if (t.raw) expect(await t.raw.exists(t.keys.seriesUsers(shard, userId))).toBe(false);
    });

    it('a session evicted past maxPerUser takes its series with it; a rotated one keeps it', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const r = series(userId, now, 'token-1');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      const a = session(userId, now, { seriesId: r.id });
      expect(await engine.create(shard, stored(a), 1)).toEqual([]);
      const next = session(userId, now, { method: 'rotation', seriesId: r.id });
      expect(await engine.rotate(shard, a.id, stored(next), now)).toBe(true);
      expect(await engine.get(shard, next.id, now)).toMatchObject({ seriesId: r.id });
      expect(await engine.create(shard, stored(session(userId, now)), 1)).toEqual([next.id]);
      expect(
        await engine.useSeries(shard, r.id, sha256('token-1'), sha256('n'), now, GRACE),
      ).toEqual({ result: 'missing' });
    });

    it("past maxPerUser, sessions of the new session's own series go first and the series stays (ADR 216)", async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const r = series(userId, now, 'token-1');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      const other = await created(userId); // another device, older than the burst
      // A burst of remember-me sign-ins of one browser: one session per request, same series.
      const burst = [1, 2, 3].map(() => session(userId, now, { seriesId: r.id }));
      expect(await engine.create(shard, stored(burst[0]), 2)).toEqual([]);
      expect(await engine.create(shard, stored(burst[1]), 2)).toEqual([burst[0].id]);
      expect(await engine.create(shard, stored(burst[2]), 2)).toEqual([burst[1].id]);
      expect((await engine.listUser(shard, userId, now)).map((s) => s.id)).toEqual([
        other.id,
        burst[2].id,
      ]);
      expect(
        await engine.useSeries(shard, r.id, sha256('token-1'), sha256('n'), now, GRACE),
      ).toMatchObject({ result: 'rotated' });
      // A session of no series still evicts the oldest, and ends that one's series as before.
      expect(await engine.create(shard, stored(session(userId, now)), 2)).toEqual([other.id]);
      expect(await engine.create(shard, stored(session(userId, now)), 2)).toEqual([burst[2].id]);
      expect(await engine.useSeries(shard, r.id, sha256('n'), sha256('m'), now, GRACE)).toEqual({
        result: 'missing',
      });
    });

    it('a session that merely expires leaves its series usable (that is what remember-me is for)', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const r = series(userId, now, 'token-1');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      await created(userId, { seriesId: r.id, expiresAt: now + 100 });
      expect(await engine.count(now + 200)).toMatchObject({ expired: 1 });
      expect(
        await engine.useSeries(shard, r.id, sha256('token-1'), sha256('n'), now + 200, GRACE),
      ).toMatchObject({ result: 'rotated' });
    });

    it('keeps at most maxPerUser series per user: past it the oldest ends', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const all = [1, 2, 3].map((i) => series(userId, now, `token-${i}`));
      for (const r of all) expect(await engine.createSeries(shard, r, 2)).toBe(true);
      const use = (i: number) =>
        engine.useSeries(shard, all[i].id, sha256(`token-${i + 1}`), sha256('n'), now, GRACE);
      expect(await use(0)).toEqual({ result: 'missing' });
      expect(await use(1)).toMatchObject({ result: 'rotated' });
      expect(await use(2)).toMatchObject({ result: 'rotated' });
    });

    it('revokeSeries (logout) needs the current token, or the previous one within grace', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      const r = series(userId, now, 'token-1');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      expect(await engine.revokeSeries(shard, r.id, sha256('forged'), now, GRACE)).toBe(false);
      expect(
        await engine.useSeries(shard, r.id, sha256('token-1'), sha256('token-2'), now, GRACE),
      ).toMatchObject({ result: 'rotated' });
      // The replaced token, after grace, ends nothing (and is not treated as theft here).
      expect(
        await engine.revokeSeries(shard, r.id, sha256('token-1'), now + GRACE + 1, GRACE),
      ).toBe(false);
      expect(await engine.revokeSeries(shard, r.id, sha256('token-1'), now + GRACE, GRACE)).toBe(
        true,
      );
      expect(
        await engine.useSeries(shard, r.id, sha256('token-2'), sha256('n'), now, GRACE),
      ).toEqual({ result: 'missing' });
    });
  });

  describe('index buckets', () => {
    it('keeps each session in its own live bucket through evictions, rotation, revokes and sweeps', async () => {
      const userId = newUserId();
      const shard = shardOf(userId);
      // Twelve sessions land in several of the shard's live buckets; the limit evicts two.
      const all = Array.from({ length: 12 }, () => session(userId, now));
      const evicted: string[] = [];
      for (const s of all) evicted.push(...((await engine.create(shard, stored(s), 10)) ?? []));
      expect(evicted).toEqual([all[0].id, all[1].id]);
      const indexed = async (id: string) =>
        t.raw && (await t.raw.zscore(t.keys.live(shard, id), id));
      if (t.raw) {
        for (const s of all.slice(0, 2)) expect(await indexed(s.id)).toBeNull();
        for (const s of all.slice(2)) expect(await indexed(s.id)).toBe(s.expiresAt);
      }
      expect(await engine.count(now)).toEqual({ sessions: 10, users: 1, expired: 0 });

      const next = session(userId, now, { expiresAt: now + 20 * MINUTE });
      expect(await engine.rotate(shard, all[2].id, stored(next), now)).toBe(true);
      if (t.raw) {
        expect(await indexed(all[2].id)).toBeNull();
        expect(await indexed(next.id)).toBe(next.expiresAt);
      }
      // Revoked without an owner check: the script finds the owner's index from the record.
      expect(await engine.revoke(shard, all[3].id)).toBe(true);
      if (t.raw) expect(await indexed(all[3].id)).toBeNull();
      expect(await engine.count(now)).toEqual({ sessions: 9, users: 1, expired: 0 });

      const ended = await engine.revokeUser(shard, userId, all[4].id);
      expect(ended).toHaveLength(8);
      if (t.raw) {
        for (const id of ended) expect(await indexed(id)).toBeNull();
        expect(await indexed(all[4].id)).toBe(all[4].expiresAt);
      }
      expect(await engine.count(now)).toEqual({ sessions: 1, users: 1, expired: 0 });

      const due = await created(userId, { expiresAt: now + 100 });
      expect(await engine.count(now + 200)).toEqual({ sessions: 1, users: 1, expired: 1 });
      if (t.raw) expect(await indexed(due.id)).toBeNull();
      expect(await engine.revoke(shard, all[4].id)).toBe(true);
      expect(await engine.count(now + 200)).toEqual({ sessions: 0, users: 0, expired: 0 });
    });

    it('counts users over every user-index bucket and drops a revoked series from its bucket', async () => {
      const users = Array.from({ length: 40 }, () => newUserId());
      for (const u of users) await created(u);
      expect(await engine.count(now)).toEqual({ sessions: 40, users: 40, expired: 0 });
      const u = users[0];
      const r = series(u, now, 'token-1');
      expect(await engine.createSeries(shardOf(u), r, 50)).toBe(true);
      expect(await engine.revokeSeries(shardOf(u), r.id, sha256('token-1'), now, GRACE)).toBe(true);
      if (t.raw) expect(await t.raw.exists(t.keys.seriesUsers(shardOf(u), u))).toBe(false);
    });
  });

  describe('at rest', () => {
    it('stores every key of one user in one hash slot', async () => {
      if (!t.raw?.keySlot) return;
      const userId = newUserId();
      const shard = shardOf(userId);
      const sessions = [await created(userId), await created(userId)];
      const r = series(userId, now, 'token-1');
      expect(await engine.createSeries(shard, r, 50)).toBe(true);
      const keys = [
        ...sessions.map((s) => t.keys.session(shard, s.id)),
        ...sessions.map((s) => t.keys.live(shard, s.id)),
        t.keys.users(shard, userId),
        t.keys.series(shard, r.id),
        t.keys.seriesUsers(shard, userId),
      ];
      for (const key of keys) expect(await t.raw.exists(key)).toBe(true);
      // The credential epoch HASH exists only once a user's credentials changed; same slot.
      keys.push(t.keys.credentials(shard, userId));
      const slots = new Set(await Promise.all(keys.map((key) => t.raw!.keySlot!(key))));
      expect(slots.size).toBe(1);
    });

    it('keeps SHA-256 of the cookie secret (all or its first 16 bytes), never the secret', async () => {
      if (!t.raw) return;
      const s = await created();
      const raw = await t.raw.get(t.keys.session(shardOf(s.userId), s.id));
      expect(raw).not.toBeNull();
      expect(raw!.includes(storedHash(s.secret, formatOf(engine)))).toBe(true);
      expect(raw!.includes(Buffer.from(s.secret))).toBe(false);
      expect(raw!.includes(Buffer.from(s.secret, 'base64url'))).toBe(false);
    });

    it('treats malformed records as no session, counts them and never throws', async () => {
      if (!t.raw) return;
      const userId = newUserId();
      const shard = shardOf(userId);
      const format = formatOf(engine);
      const good = encodeSession(stored(session(userId, now)), format);
      const wrongVersion = Buffer.from(good);
      wrongVersion[0] = 9;
      const uidAt = SESSION_LAYOUT[format].uidLength;
      const noUid = Buffer.concat([good.subarray(0, uidAt), Buffer.from([0, 0, 0])]);
      const cases: Array<Buffer | string> = [
        JSON.stringify({ userId, expiresAt: now + MINUTE }),
        wrongVersion,
        good.subarray(0, 40),
        good.subarray(0, good.length - 3),
        noUid,
      ];
      const before = engine.stats.malformed;
      for (const [i, value] of cases.entries()) {
        const id = `malformed${i}`;
        await t.raw.set(t.keys.session(shard, id), value);
        await expect(engine.get(shard, id, now)).resolves.toBeNull();
      }
      await t.raw.setHash(t.keys.session(shard, 'wrongtype'), 'f', 'v');
      await expect(engine.get(shard, 'wrongtype', now)).resolves.toBeNull();
      expect(engine.stats.malformed - before).toBe(cases.length + 1);
      // Writes on a malformed record do nothing and do not throw either.
      await expect(engine.touch(shard, 'malformed1', now, now + MINUTE, now)).resolves.toBe(false);
      await expect(engine.revoke(shard, 'malformed2')).resolves.toBe(false);
    });
  });
}
