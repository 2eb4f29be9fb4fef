/**
 * A model of what an engine's indexes hold, driven by a seeded random mix of operations, so the
 * live counts (ADR 180) can be checked against an independent answer: the engine's replies must
 * match the model's predictions, and count(now) must equal the model's live sessions and users.
 */
import type { SessionCounts, SessionEngine, SweepResult } from '../../src/store/engine';
import { newUserId, session, stored } from './store-fixtures';

/** mulberry32: a small seeded generator, so a failing mix can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Modelled {
  readonly userId: string;
  expiresAt: number;
}

export interface MixOptions {
  readonly engine: SessionEngine;
  readonly shardOf: (userId: string) => number;
  readonly seed: number;
  readonly operations: number;
  readonly users: number;
  /** Epoch ms the virtual clock starts at (records are kept by Redis on the wall clock). */
  readonly start: number;
  readonly maxPerUser: number;
  /** Called with each count the mix made, and the model's answer at that instant. */
  readonly counted?: (got: SessionCounts, expected: SessionCounts) => void;
  /**
   * The engine's sweep (ADR 230), for an engine whose counts may lag expiries: each check then
   * counts before sweeping (`lagged`), sweeps (every expired entry must go), and counts again,
   * which must be exact (`counted`, with nothing left for the count to sweep).
   */
  readonly sweep?: (now: number) => Promise<SweepResult>;
  /**
   * The count made before the sweep, what the indexes hold (expired entries included), and the
   * oldest unswept deadline (null when nothing expired is indexed).
   */
  readonly lagged?: (
    got: SessionCounts,
    indexed: SessionCounts,
    oldest: number | null,
    now: number,
  ) => void;
}

/**
 * The model: sessions by id (expired ones stay until a count sweeps them, as in the engines),
 * each user's ids oldest first. Every reply the engine gives is compared with the model's.
 */
export class CountModel {
  readonly sessions = new Map<string, Modelled>();
  readonly byUser = new Map<string, string[]>();

  expected(now: number): SessionCounts {
    let live = 0;
    let expired = 0;
    for (const s of this.sessions.values()) {
      if (s.expiresAt > now) live++;
      else expired++;
    }
    const users = new Set([...this.sessions.values()].filter((s) => s.expiresAt > now));
    return {
      sessions: live,
      users: new Set([...users].map((s) => s.userId)).size,
      expired,
    };
  }

  /** What the indexes hold, expired entries included: a lagging count's answer (ADR 230). */
  indexed(): SessionCounts {
    const all = [...this.sessions.values()];
    return { sessions: all.length, users: new Set(all.map((s) => s.userId)).size, expired: 0 };
  }

  /** The earliest deadline at or before `now` still indexed; null when none. */
  oldestExpired(now: number): number | null {
    let oldest: number | null = null;
    for (const s of this.sessions.values()) {
      if (s.expiresAt <= now && (oldest === null || s.expiresAt < oldest)) oldest = s.expiresAt;
    }
    return oldest;
  }

  /** What a count at `now` sweeps: every expired entry leaves. */
  sweep(now: number): void {
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.remove(id);
  }

  add(id: string, userId: string, expiresAt: number): void {
    this.sessions.set(id, { userId, expiresAt });
    this.byUser.set(userId, [...(this.byUser.get(userId) ?? []), id]);
  }

  remove(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    const rest = (this.byUser.get(s.userId) ?? []).filter((x) => x !== id);
    if (rest.length) this.byUser.set(s.userId, rest);
    else this.byUser.delete(s.userId);
  }

  ids(userId: string): string[] {
    return this.byUser.get(userId) ?? [];
  }
}

/** Runs the mix; returns the model and the virtual time it ended at. */
export async function randomMix(o: MixOptions): Promise<{ model: CountModel; now: number }> {
  const rnd = seeded(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const ttl = () => 20 + Math.floor(rnd() * 1500);
  const users = Array.from({ length: o.users }, () => newUserId());
  const model = new CountModel();
  const { engine, shardOf } = o;
  let now = o.start;

  const anyId = (): string | undefined => pick([...model.sessions.keys()]);
  const check = async () => {
    const expected = model.expected(now);
    if (o.sweep) {
      o.lagged?.(await engine.count(now), model.indexed(), model.oldestExpired(now), now);
      const swept = await o.sweep(now);
      expect(swept).toMatchObject({ expired: expected.expired, remaining: 0 });
      model.sweep(now);
      o.counted?.(await engine.count(now), { ...expected, expired: 0 });
      return;
    }
    const got = await engine.count(now);
    model.sweep(now);
    o.counted?.(got, expected);
  };

  for (let i = 0; i < o.operations; i++) {
    now += Math.floor(rnd() * 40);
    const roll = rnd();
    if (roll < 0.4) {
      const userId = pick(users);
      const s = session(userId, now, { expiresAt: now + ttl() });
      const ids = [...model.ids(userId), s.id];
      const evicted = ids.slice(0, Math.max(0, ids.length - o.maxPerUser));
      expect(await engine.create(shardOf(userId), stored(s), o.maxPerUser)).toEqual(evicted);
      for (const id of evicted) model.remove(id);
      model.add(s.id, userId, s.expiresAt);
    } else if (roll < 0.55) {
      const id = anyId();
      if (!id) continue;
      const m = model.sessions.get(id)!;
      // Sometimes earlier than before: the counter's due bounds must move down too.
      const next = now + ttl();
      const alive = m.expiresAt > now;
      expect(await engine.touch(shardOf(m.userId), id, now, next, now)).toBe(alive);
      if (alive) m.expiresAt = next;
    } else if (roll < 0.67) {
      const id = anyId();
      if (!id) continue;
      const m = model.sessions.get(id)!;
      const next = session(m.userId, now, { expiresAt: now + ttl() });
      const alive = m.expiresAt > now;
      expect(await engine.rotate(shardOf(m.userId), id, stored(next), now)).toBe(alive);
      if (alive) {
        const ids = model.ids(m.userId).map((x) => (x === id ? next.id : x));
        model.sessions.delete(id);
        model.sessions.set(next.id, { userId: m.userId, expiresAt: next.expiresAt });
        model.byUser.set(m.userId, ids);
      }
    } else if (roll < 0.8) {
      const id = anyId() ?? 'AAAAAAAAAAAAAAAAAAAAAA';
      const m = model.sessions.get(id);
      const userId = m?.userId ?? pick(users);
      expect(await engine.revoke(shardOf(userId), id)).toBe(!!m);
      model.remove(id);
    } else if (roll < 0.87) {
      const userId = pick(users);
      const ids = model.ids(userId);
      const except = rnd() < 0.5 ? pick(ids) : undefined;
      const ended = await engine.revokeUser(shardOf(userId), userId, except);
      expect([...ended].sort()).toEqual(ids.filter((id) => id !== except).sort());
      for (const id of ids) if (id !== except) model.remove(id);
    } else if (roll < 0.89) {
      const shard = shardOf(pick(users));
      const inShard = [...model.sessions].filter(([, s]) => shardOf(s.userId) === shard);
      expect((await engine.revokeShard(shard)).sessions).toBe(inShard.length);
      for (const [id] of inShard) model.remove(id);
    } else {
      await check();
    }
  }
  await check();
  return { model, now };
}
