/**
 * Growing the shard count online (ADR 260) on a real 3+3 cluster: users move from 8 to 32 shards
 * while requests run; cookies made under 8 shards keep working; counts stay right; a revoke that
 * races a user's move is never lost; a split stopped halfway (or mid-move) resumes.
 */
import { loadSettings } from '../../../src/config';
import type { RedisSettings } from '../../../src/config/settings';
import { SessionPolicy, SessionService } from '../../../src/session';
import { parseToken } from '../../../src/session/token';
import { shardUnder } from '../../../src/store/keys';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { reshard } from '../../../src/store/redis/resharder';
import type { ReshardProgress } from '../../../src/store/redis/resharder';
import { getProvider, type RedisClusterHandle } from '../../harness';
import { newUserId, redisSettings, series, session, stored } from '../../support/store-fixtures';

const provider = getProvider();
const FROM = 8;
const TO = 32;
const client = { ip: '203.0.113.7', userAgent: 'Firefox 130 on Linux' };

describe('growing the shard count (ADR 260) on a cluster', () => {
  let cluster: RedisClusterHandle;
  const settings = (o: Partial<RedisSettings> = {}) =>
    redisSettings({ mode: 'cluster', nodes: cluster.seeds, shards: FROM, ...o });
  const engines: RedisEngine[] = [];

  beforeAll(async () => {
    cluster = await provider.cluster({ masters: 3, replicasPerMaster: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop()));
  });

  async function started(s: RedisSettings): Promise<RedisEngine> {
    const engine = new RedisEngine(s, { name: 'holdfast-test' });
    await engine.start();
    await engine.meta();
    engines.push(engine);
    return engine;
  }

  /** A user whose shard changes from 8 to 32 shards (3 in 4 do). */
  function mover(): string {
    for (;;) {
      const u = newUserId();
      if (shardUnder(u, TO) !== shardUnder(u, FROM)) return u;
    }
  }

  it('moves every user while cookies made under the old count keep working, counts right throughout', async () => {
    const s = settings();
    const engine = await started(s);
    const policy = new SessionPolicy(loadSettings({ env: { NODE_ENV: 'test' } }).session);
    const service = new SessionService(engine, engine.keys, policy);
    const users = Array.from({ length: 60 }, () => newUserId());
    const tokens = new Map<string, string[]>();
    for (const u of users) {
      const made = [
        await service.create(u, client, 'password'),
        await service.create(u, client, 'password'),
      ];
      tokens.set(
        u,
        made.map((m) => m.token),
      );
    }
    const remember = await service.create(users[0], client, 'password', { remember: true });
    const now = Date.now();
    expect(await engine.count(now)).toMatchObject({ sessions: 121, users: 60 });

    const seen: ReshardProgress[] = [];
    const counts: number[] = [];
    const done = await reshard(engine, TO, {
      announceWaitMs: 0,
      concurrency: 4,
      onProgress: (p) => seen.push(p),
    });
    expect(done).toMatchObject({ from: FROM, to: TO, done: true, cursor: FROM });
    expect(seen.map((p) => p.phase)).toEqual(['announce', ...Array(FROM).fill('shard'), 'done']);
    expect(seen.map((p) => p.shardsDone)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 8]);
    const movedUsers = users.filter((u) => shardUnder(u, TO) !== shardUnder(u, FROM)).length;
    expect(seen[seen.length - 1].moved).toBe(movedUsers);
    expect(movedUsers).toBeGreaterThan(30);
    counts.push((await engine.count(Date.now())).sessions);
    expect(counts).toEqual([121]);
    expect(await engine.count(Date.now())).toMatchObject({ sessions: 121, users: 60 });

    // The data is where the grown count puts it, and nowhere else.
    const c = engine.connection.writes;
    const k = engine.keys;
    for (const u of users) {
      const [a] = tokens.get(u)!;
      const parsed = parseToken(a, FROM)!;
      const at = shardUnder(u, TO);
      expect(await c.exists(k.session(at, parsed.id))).toBe(1);
      if (at !== parsed.shard) expect(await c.exists(k.session(parsed.shard, parsed.id))).toBe(0);
    }
    expect(await c.hmget(k.meta(), 'shards', 'grownFrom', 'reshard')).toEqual(['32', '8', null]);
    // The per-user markers went once every node knew the end.
    for (let s = 0; s < FROM; s++) expect(await c.exists(k.reshard(s))).toBe(0);

    // Old cookies: authenticate, list, renew, revoke; the remember-me series moved too.
    for (const u of users) {
      for (const t of tokens.get(u)!) {
        expect(await service.authenticate(t)).toMatchObject({
          result: 'ok',
          session: { userId: u },
        });
      }
      expect((await service.list(u)).length).toBe(u === users[0] ? 3 : 2);
    }
    const used = await service.useRemember(remember.rememberToken, client);
    expect(used).toMatchObject({ result: 'ok' });
    const [first, second] = tokens.get(users[1])!;
    expect(await service.revoke(users[1], parseToken(first, FROM)!.id, 'logout')).toBe(true);
    expect(await service.authenticate(first)).toMatchObject({ result: 'invalid' });
    expect(await service.authenticate(second)).toMatchObject({ result: 'ok' });
    await service.revokeAll(users[2], 'logout');
    for (const t of tokens.get(users[2])!) {
      expect(await service.authenticate(t)).toMatchObject({ result: 'invalid' });
    }
    const after = await engine.count(Date.now());
    // 121, −1 (users[1]), −2 (users[2]), +1 made by the remember-me sign-in.
    expect(after).toMatchObject({ sessions: 119, users: 59 });

    // A node started after the split (settings still name 8 shards) reads and writes the same data.
    const late = await started(s);
    expect(late.splitState).toMatchObject({ from: FROM, to: TO, done: true });
    const lateService = new SessionService(late, late.keys, policy);
    expect(await lateService.authenticate(second)).toMatchObject({ result: 'ok' });
    const fresh = await lateService.create(users[3], client, 'password');
    expect(await service.authenticate(fresh.token)).toMatchObject({ result: 'ok' });
    expect(await late.count(Date.now())).toMatchObject({ sessions: 120, users: 59 });

    // A node restarted with the grown count: cookies under 8 shards still work, new ones name 32.
    const grown = await started(settings({ shards: TO, keyPrefix: s.keyPrefix }));
    expect(grown.keys.grownFrom).toBe(FROM);
    const grownService = new SessionService(grown, grown.keys, policy);
    expect(await grownService.authenticate(second)).toMatchObject({ result: 'ok' });
    expect(await grownService.authenticate(fresh.token)).toMatchObject({ result: 'ok' });
    const newer = await grownService.create(users[4], client, 'password');
    expect(parseToken(newer.token, TO)!.shard).toBe(shardUnder(users[4], TO));
    // Nodes still configured with 8 shards accept the cookies nodes with 32 issue (rolling restart).
    expect(await service.authenticate(newer.token)).toMatchObject({ result: 'ok' });
    expect((await grownService.list(users[4])).length).toBe(3);
    expect(await grownService.revokeAll(users[4], 'logout')).toHaveLength(3);
    expect(await grown.count(Date.now())).toMatchObject({ sessions: 118, users: 58 });
  });

  it('a revoke, a sign-out everywhere and a renewal that race a user’s move wait for it and apply to the copy', async () => {
    const engine = await started(settings());
    const k = engine.keys;
    const now = Date.now();
    const u = mover();
    const [a, b, keep] = [session(u, now), session(u, now), session(u, now)];
    const old = shardUnder(u, FROM);
    const target = shardUnder(u, TO);
    for (const x of [a, b, keep]) await engine.create(old, stored(x), 10);
    const other = mover();
    const o1 = session(other, now);
    await engine.create(shardUnder(other, FROM), stored(o1), 10);
    await engine.createSeries(old, series(u, now, 'token-1'), 5);

    await c(engine).hset(k.meta(), 'reshard', JSON.stringify({ from: FROM, to: TO, cursor: 0 }));
    await engine.refreshMeta();

    let revoked: Promise<boolean> | undefined;
    let touched: Promise<boolean> | undefined;
    let settledEarly = false;
    await engine.moveUser(old, target, u, now, async () => {
      // Frozen: these must wait for the move, not apply to the old place (the copy is taken).
      revoked = engine.revoke(old, a.id, u);
      touched = engine.touch(old, b.id, now + 1, now + 40 * 60_000, now + 1);
      void Promise.race([revoked, touched]).then(() => (settledEarly = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(settledEarly).toBe(false);
    });
    expect(await revoked).toBe(true);
    expect(await touched).toBe(true);
    // The revoked session is gone from both places; nothing revives it.
    expect(await engine.get(old, a.id, now)).toBeNull();
    expect(await c(engine).exists(k.session(target, a.id))).toBe(0);
    expect(await c(engine).exists(k.session(old, a.id))).toBe(0);
    expect((await engine.get(old, b.id, now))?.expiresAt).toBe(now + 40 * 60_000);
    expect((await engine.listUser(old, u, now)).map((s) => s.id).sort()).toEqual(
      [b.id, keep.id].sort(),
    );
    expect(await engine.count(now)).toMatchObject({ sessions: 3, users: 2 });

    // A sign-out everywhere racing the other user's move.
    const otherTarget = shardUnder(other, TO);
    let ended: Promise<string[]> | undefined;
    await engine.moveUser(shardUnder(other, FROM), otherTarget, other, now, async () => {
      ended = engine.revokeUser(shardUnder(other, FROM), other, undefined, 3);
      await new Promise((r) => setTimeout(r, 30));
    });
    expect(await ended).toEqual([o1.id]);
    expect(await engine.get(shardUnder(other, FROM), o1.id, now)).toBeNull();
    expect(await c(engine).hget(k.credentials(otherTarget, other), other)).toBe('3');
    expect(await engine.count(now)).toMatchObject({ sessions: 2, users: 1 });
    // A session made with the old credential version is refused on the new shard.
    expect(
      await engine.create(shardUnder(other, FROM), stored(session(other, now)), 10),
    ).toBeNull();
  });

  it('resumes a split stopped halfway, with a user left frozen mid-move', async () => {
    const s = settings();
    const engine = await started(s);
    const now = Date.now();
    const made = Array.from({ length: 40 }, () => session(newUserId(), now));
    for (const x of made) await engine.create(shardUnder(x.userId, FROM), stored(x), 5);

    const half = await reshard(engine, TO, { announceWaitMs: 0, maxShards: 3 });
    expect(half).toMatchObject({ cursor: 3, done: false });
    expect(await engine.count(now)).toMatchObject({ sessions: 40, users: 40 });

    // A crash after a freeze: the user's writes wait (then 503), reads still answer.
    const stuck = made.find(
      (x) => shardUnder(x.userId, FROM) === 5 && shardUnder(x.userId, TO) !== 5,
    );
    expect(stuck).toBeDefined();
    await expect(
      engine.moveUser(5, shardUnder(stuck!.userId, TO), stuck!.userId, now, () =>
        Promise.reject(new Error('crash')),
      ),
    ).rejects.toThrow('crash');
    expect((await engine.get(5, stuck!.id, now))?.userId).toBe(stuck!.userId);
    await expect(engine.revoke(5, stuck!.id, stuck!.userId)).rejects.toMatchObject({
      code: 'HF_STORE_UNAVAILABLE',
    });

    // A second node, started meanwhile, knows the split from meta.
    const other = await started(s);
    expect(other.splitState).toMatchObject({ from: FROM, to: TO, cursor: 3, done: false });
    for (const x of made) {
      expect((await other.get(shardUnder(x.userId, FROM), x.id, now))?.id).toBe(x.id);
    }

    // One run at a time: another process's lease refuses this one, nothing moved.
    expect(await engine.reshardLease('another-run', 60_000)).toBe(true);
    await expect(reshard(engine, TO, { announceWaitMs: 0 })).rejects.toMatchObject({
      code: 'HF_RESHARD_REFUSED',
    });
    const next = made.filter(
      (x) => shardUnder(x.userId, FROM) === 3 && shardUnder(x.userId, TO) !== 3,
    );
    expect(next.length).toBeGreaterThan(0);
    for (const x of next) {
      expect(await c(engine).exists(engine.keys.session(3, x.id))).toBe(1);
    }
    const recorded = await c(engine).hget(engine.keys.meta(), 'reshard');
    expect(JSON.parse(recorded!)).toEqual({ from: FROM, to: TO, cursor: 3 });
    expect(await engine.reshardLease('another-run', 0)).toBe(false);

    const done = await reshard(engine, TO, { announceWaitMs: 0 });
    expect(done).toMatchObject({ cursor: FROM, done: true });
    // The lease was given back.
    expect(await c(engine).exists(engine.keys.reshardLease())).toBe(0);
    expect(await engine.count(now)).toMatchObject({ sessions: 40, users: 40 });
    for (const x of made) {
      const got = await other.get(shardUnder(x.userId, FROM), x.id, now);
      expect(got?.id).toBe(x.id);
      expect(await c(engine).exists(engine.keys.session(shardUnder(x.userId, TO), x.id))).toBe(1);
    }
    expect(await engine.revoke(5, stuck!.id, stuck!.userId)).toBe(true);
    expect(await engine.count(now)).toMatchObject({ sessions: 39, users: 39 });
    // A run that ended before dropping the markers: the next one drops them.
    await c(engine).hset(engine.keys.reshard(2), 'someone', 'd');
    expect(await reshard(engine, TO)).toMatchObject({ done: true });
    expect(await c(engine).exists(engine.keys.reshard(2))).toBe(0);
    // Refused: not a multiple; and a second run at the end changes nothing.
    await expect(reshard(engine, 48)).rejects.toThrow('not a larger multiple');
    await expect(reshard(engine, 64)).rejects.toMatchObject({
      code: 'HF_RESHARD_REFUSED',
      message: expect.stringContaining('grew once already (from 8 to 32 shards)'),
    });
    expect(await reshard(engine, TO)).toMatchObject({ done: true });
  });

  it('keeps counts right while sign-ins, renewals and sign-outs run during the split', async () => {
    const engine = await started(settings());
    const policy = new SessionPolicy(loadSettings({ env: { NODE_ENV: 'test' } }).session);
    const service = new SessionService(engine, engine.keys, policy);
    const live = new Map<string, { userId: string; token: string }>();
    for (let i = 0; i < 40; i++) {
      const u = newUserId();
      const m = await service.create(u, client, 'password');
      live.set(m.session.id, { userId: u, token: m.token });
    }
    let running = true;
    let i = 0;
    const load = (async () => {
      while (running) {
        i++;
        const u = newUserId();
        const m = await service.create(u, client, 'password');
        live.set(m.session.id, { userId: u, token: m.token });
        const ids = [...live.keys()];
        const victim = ids[(i * 7) % ids.length];
        const v = live.get(victim)!;
        expect(await service.revoke(v.userId, victim, 'logout')).toBe(true);
        live.delete(victim);
        const probe = live.get(ids[(i * 13) % ids.length]);
        if (probe) expect(await service.authenticate(probe.token)).toMatchObject({ result: 'ok' });
      }
    })();
    await reshard(engine, TO, { announceWaitMs: 20, concurrency: 2 });
    running = false;
    await load;
    // The load ran through the split (each round: a sign-in, a sign-out, a cookie checked).
    expect(i).toBeGreaterThan(10);
    expect(await engine.count(Date.now())).toMatchObject({ sessions: live.size, users: live.size });
    for (const { token } of live.values()) {
      expect(await service.authenticate(token)).toMatchObject({ result: 'ok' });
    }
  });
});

function c(engine: RedisEngine) {
  return engine.connection.writes;
}
