/**
 * Signed-in users working on a Redis store while an operator reshapes the cluster under it
 * (test/integration/store: add-master, drain-master): each has a session and an account, and
 * loops of them read, renew and create sessions and read their accounts until stopped. Every
 * failure is counted and kept, so a test can require none, and every session made can be
 * read back afterwards.
 */
import type { RedisEngine } from '../../src/store/redis/redis-engine';
import type { User, UserStore } from '../../src/users';
import { MINUTE, newUserId, session, stored } from './store-fixtures';

export interface LoadUser {
  readonly userId: string;
  readonly shard: number;
  /** The session made at sign-in. */
  readonly s: ReturnType<typeof session>;
  readonly account: User;
  /** Ids of the sessions the load created for this user. */
  readonly extra: string[];
}

/**
 * `count` users, each with an account and one session; no create may evict a session
 * (`maxPerUser` above what a run reaches), or the load would read it as lost.
 */
export function signInUsers(
  engine: RedisEngine,
  users: UserStore,
  count: number,
  maxPerUser: number,
): Promise<LoadUser[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const userId = newUserId();
      const shard = engine.keys.shardOf(userId);
      const s = session(userId, Date.now());
      expect(await engine.create(shard, stored(s), maxPerUser)).toEqual([]);
      const account = await users.create({ email: `${userId}@example.test`, passwordHash: null });
      return { userId, shard, s, account, extra: [] };
    }),
  );
}

export interface StoreLoad {
  /** Rounds that succeeded so far. */
  readonly requests: number;
  /** Rounds that failed so far. */
  readonly failed: number;
  /** The first 20 failures' messages. */
  readonly failures: readonly string[];
  /** Ends every loop after its current round. */
  stop(): Promise<void>;
}

/**
 * Starts `loops` loops over `people` (loop i starts at user i × 31). Each round reads a session
 * and, every 3rd round renews it, every 5th creates one more, every 4th reads the account.
 * `label` prefixes each failure (e.g. the phase of the operation under way).
 */
export function startStoreLoad(
  engine: RedisEngine,
  users: UserStore,
  people: readonly LoadUser[],
  opts: { loops: number; maxPerUser: number; label?: () => string },
): StoreLoad {
  const failures: string[] = [];
  let requests = 0;
  let failed = 0;
  let stop = false;
  const loop = async (i: number) => {
    for (let n = 0; !stop; n++) {
      const p = people[(i * 31 + n) % people.length];
      const now = Date.now();
      try {
        const got = await engine.get(p.shard, p.s.id, now);
        if (!got) throw new Error(`lost ${p.s.id}`);
        if (n % 3 === 0) {
          if (!(await engine.touch(p.shard, p.s.id, now, now + 30 * MINUTE, now)))
            throw new Error(`touch lost ${p.s.id}`);
        }
        if (n % 5 === 0) {
          const s = session(p.userId, now);
          const evicted = await engine.create(p.shard, stored(s), opts.maxPerUser);
          if (evicted?.length !== 0) throw new Error(`create evicted ${String(evicted)}`);
          p.extra.push(s.id);
        }
        if (n % 4 === 0 && (await users.findById(p.account.id))?.id !== p.account.id)
          throw new Error(`user lost ${p.account.id}`);
        requests++;
      } catch (err) {
        failed++;
        const message = (err as Error).message;
        if (failures.length < 20)
          failures.push(opts.label ? `${opts.label()}: ${message}` : message);
      }
      // Yield to I/O each round: a store that fails at once must not starve the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const running = Array.from({ length: opts.loops }, (_, i) => loop(i));
  return {
    get requests() {
      return requests;
    },
    get failed() {
      return failed;
    },
    failures,
    stop: async () => {
      stop = true;
      await Promise.all(running);
    },
  };
}

/** Ids of the sessions (made at sign-in or by the load) that no longer read back. */
export async function lostSessions(
  engine: RedisEngine,
  people: readonly LoadUser[],
): Promise<string[]> {
  // The users concurrently: up to ~10k sessions.
  const missing = await Promise.all(
    people.map(async (p) => {
      const gone: string[] = [];
      for (const id of [p.s.id, ...p.extra])
        if (!(await engine.get(p.shard, id, Date.now()))) gone.push(id);
      return gone;
    }),
  );
  return missing.flat();
}
