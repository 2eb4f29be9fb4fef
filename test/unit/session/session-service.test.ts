import { createHash } from 'node:crypto';
import { loadSettings } from '../../../src/config';
import { StoreUnavailableError } from '../../../src/errors';
import { CredentialsChangedError, SessionPolicy, SessionService } from '../../../src/session';
import { formatToken, newId, newSecret, parseToken } from '../../../src/session/token';
import { encodeSession } from '../../../src/store/record-codec';
import type { SessionEngine } from '../../../src/store/engine';
import { KeyLayout, shardUnder } from '../../../src/store/keys';
import { MemoryEngine } from '../../../src/store/memory/memory-engine';
import { formatOf, storedHash } from '../../support/store-fixtures';

const MIN = 60_000;
const sha256 = (v: string) => createHash('sha256').update(v, 'utf8').digest();
/** The secret as text and as the bytes it encodes: none may be at rest. */
const secretForms = (secret: string) => [Buffer.from(secret), Buffer.from(secret, 'base64url')];
const client = { ip: '203.0.113.7', userAgent: 'Firefox 130 on Linux' };

function setup() {
  const settings = loadSettings({ env: { NODE_ENV: 'test' } }); // idle 30m, absolute 7d, renew 5m
  const clock = { now: 1_700_000_000_000 };
  const layout = new KeyLayout('hf', 16);
  const engine = new MemoryEngine(16, () => clock.now);
  const service = new SessionService(
    engine,
    layout,
    new SessionPolicy(settings.session),
    () => clock.now,
  );
  return { clock, engine, service, layout };
}

describe('SessionService', () => {
  it('issues an opaque token whose secret is stored only as a hash', async () => {
    const { service, engine, layout, clock } = setup();
    const { token, session } = await service.create('user-1', client, 'password');
    const parsed = parseToken(token, 16)!;
    expect(parsed.shard).toBe(layout.shardOf('user-1'));
    expect(parsed.id).toBe(session.id);
    expect(parsed.secret).toHaveLength(43); // 256 bits
    const stored = await engine.get(parsed.shard, parsed.id, clock.now);
    // The stored hash is SHA-256 of the cookie's secret (all of it, or its first 16 bytes in
    // format 4), computed here independently: a reversible transform (or none) fails, and the
    // record as packed holds no form of the secret.
    const format = formatOf(engine);
    expect(stored!.secretHash).toEqual(storedHash(parsed.secret, format));
    const record = encodeSession(stored!, format);
    for (const form of secretForms(parsed.secret)) expect(record.includes(form)).toBe(false);
    expect(record.includes(storedHash(parsed.secret, format))).toBe(true);
    expect(service.stats.created.password).toBe(1);

    // The same for a rotated session and a remember-me series.
    const next = (await service.rotate(stored!, client))!;
    const rotated = parseToken(next.token, 16)!;
    const again = await engine.get(rotated.shard, rotated.id, clock.now);
    expect(again!.secretHash).toEqual(storedHash(rotated.secret, format));
    for (const form of secretForms(rotated.secret)) {
      expect(encodeSession(again!, format).includes(form)).toBe(false);
    }
    const remember = parseToken(
      (await service.create('user-1', client, 'password', { remember: true })).rememberToken!,
      16,
    )!;
    const other = sha256(newSecret());
    expect(
      await engine.useSeries(
        remember.shard,
        remember.id,
        sha256(remember.secret),
        other,
        clock.now,
        0,
      ),
    ).toEqual({ result: 'rotated', userId: 'user-1', credentialVersion: 0 });
  });

  it('authenticates the token and rejects a wrong secret, a foreign shard and garbage', async () => {
    const { service } = setup();
    const { token } = await service.create('user-1', client, 'password');
    expect((await service.authenticate(token)).result).toBe('ok');
    const [shard, id, secret] = token.split('.');
    const wrongSecret = `${shard}.${id}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    expect((await service.authenticate(wrongSecret)).result).toBe('invalid');
    expect((await service.authenticate(`${(Number(shard) + 1) % 16}.${id}.${secret}`)).result).toBe(
      'invalid',
    );
    expect((await service.authenticate('garbage')).result).toBe('invalid');
    expect((await service.authenticate(undefined)).result).toBe('missing');
    expect(service.stats.auth).toEqual({ ok: 1, invalid: 3, missing: 1, unavailable: 0 });
  });

  it('renews at most once per renewal interval, and never past the absolute lifetime', async () => {
    const { service, clock, engine, layout } = setup();
    const { token, session } = await service.create('user-1', client, 'password');
    clock.now += 4 * MIN;
    const early = await service.authenticate(token);
    expect(early.result === 'ok' && early.session.expiresAt).toBe(session.expiresAt);
    expect(service.stats.renewals).toBe(0);
    clock.now += 2 * MIN;
    const due = await service.authenticate(token);
    expect(due.result === 'ok' && due.session.expiresAt).toBe(clock.now + 30 * MIN);
    await service.settled();
    expect(service.stats.renewals).toBe(1);
    const stored = await engine.get(layout.shardOf('user-1'), session.id, clock.now);
    expect(stored?.expiresAt).toBe(clock.now + 30 * MIN);

    // Keep the session busy: it still ends at the absolute deadline.
    while (clock.now + 20 * MIN < session.absoluteExpiresAt) {
      clock.now += 20 * MIN;
      expect((await service.authenticate(token)).result).toBe('ok');
    }
    const last = await service.authenticate(token);
    expect(last.result === 'ok' && last.session.expiresAt).toBe(session.absoluteExpiresAt);
    clock.now = session.absoluteExpiresAt;
    expect((await service.authenticate(token)).result).toBe('invalid');
  });

  it('ends a session after the idle timeout', async () => {
    const { service, clock } = setup();
    const { token } = await service.create('user-1', client, 'password');
    clock.now += 30 * MIN;
    expect((await service.authenticate(token)).result).toBe('invalid');
  });

  it('rotates to a new id and secret; the old token stops working', async () => {
    const { service } = setup();
    const revoked: Array<[string, readonly string[]]> = [];
    service.events.on('revoked', (e) => revoked.push([e.reason, e.sessionIds]));
    const first = await service.create('user-1', client, 'password');
    const next = await service.rotate(first.session, client);
    expect(revoked).toEqual([['rotation', [first.session.id]]]);
    expect(service.stats.created.rotation).toBe(1);
    expect(service.stats.revoked.rotation).toBe(1);
    expect(next).not.toBeNull();
    expect(next!.session.id).not.toBe(first.session.id);
    expect((await service.authenticate(first.token)).result).toBe('invalid');
    expect((await service.authenticate(next!.token)).result).toBe('ok');
    expect(await service.rotate(first.session, client)).toBeNull();
  });

  it('a rotated session keeps its idle window and never passes the absolute deadline', async () => {
    const settings = loadSettings({
      env: { NODE_ENV: 'test' },
      overrides: { session: { idleTtl: '30m', absoluteTtl: '40m', renewAfter: '5m' } },
    });
    const clock = { now: 1_700_000_000_000 };
    const service = new SessionService(
      new MemoryEngine(16, () => clock.now),
      new KeyLayout('hf', 16),
      new SessionPolicy(settings.session),
      () => clock.now,
    );
    const t0 = clock.now;
    const a = await service.create('user-1', client, 'password');
    clock.now += 2 * MIN;
    const early = (await service.rotate(a.session, client))!;
    expect(early.session.expiresAt).toBe(clock.now + 30 * MIN); // a whole idle window
    expect(early.session.absoluteExpiresAt).toBe(t0 + 40 * MIN);
    clock.now = t0 + 20 * MIN;
    const renewed = await service.authenticate(early.token); // renewal capped at t0 + 40m
    expect(renewed.result === 'ok' && renewed.session.expiresAt).toBe(t0 + 40 * MIN);
    clock.now = t0 + 25 * MIN;
    const late = (await service.rotate(
      renewed.result === 'ok' ? renewed.session : a.session,
      client,
    ))!;
    expect(late.session.expiresAt).toBe(t0 + 40 * MIN);
    clock.now = t0 + 40 * MIN;
    expect((await service.authenticate(late.token)).result).toBe('invalid');
  });

  it("a record under a shard that is not its user's is refused (a planted or misplaced record)", async () => {
    const { service, engine, layout, clock } = setup();
    const right = layout.shardOf('user-1');
    const wrong = (right + 1) % 16;
    const record = (id: string, secret: string) => ({
      id,
      userId: 'user-1',
      secretHash: sha256(secret),
      method: 'password' as const,
      createdAt: clock.now,
      lastSeenAt: clock.now,
      expiresAt: clock.now + 30 * MIN,
      absoluteExpiresAt: clock.now + 60 * MIN,
      ip: client.ip,
      userAgent: client.userAgent,
      credentialVersion: 0,
      seriesId: null,
    });
    const series = (id: string, token: string) => ({
      id,
      userId: 'user-1',
      tokenHash: sha256(token),
      previousHash: null,
      rotatedAt: clock.now,
      expiresAt: clock.now + 60 * MIN,
      credentialVersion: 0,
    });
    for (const shard of [wrong, right]) {
      const [id, secret, sid, token] = [newId(), newSecret(), newId(), newSecret()];
      await engine.create(shard, record(id, secret), 50);
      await engine.createSeries(shard, series(sid, token), 50);
      const session = await service.authenticate(formatToken(shard, id, secret));
      const remembered = await service.useRemember(formatToken(shard, sid, token), client);
      // The same records are fine in the user's own shard: only the misplaced ones are refused.
      expect([shard === right, session.result, remembered.result]).toEqual(
        shard === right ? [true, 'ok', 'ok'] : [false, 'invalid', 'invalid'],
      );
    }
    expect(service.stats.created.remember).toBe(1);
  });

  it('after the shard count grew (ADR 260), a cookie naming the user’s shard under the old count is accepted, no other', async () => {
    const { service, engine, layout, clock } = setup();
    // A user whose shard differs under 4 and 16 shards.
    const userId = Array.from({ length: 50 }, (_, i) => `user-${i}`).find(
      (u) => shardUnder(u, 16) !== shardUnder(u, 4),
    )!;
    const now = layout.shardOf(userId);
    const old = shardUnder(userId, 4);
    const other = (old + 1) % 4;
    const results = async () => {
      const out: string[] = [];
      for (const shard of [now, old, other]) {
        const [id, secret, sid, token] = [newId(), newSecret(), newId(), newSecret()];
        const common = {
          userId,
          createdAt: clock.now,
          lastSeenAt: clock.now,
          credentialVersion: 0,
        };
        await engine.create(
          shard,
          {
            ...common,
            id,
            secretHash: sha256(secret),
            method: 'password',
            expiresAt: clock.now + 30 * MIN,
            absoluteExpiresAt: clock.now + 60 * MIN,
            ip: client.ip,
            userAgent: client.userAgent,
            seriesId: null,
          },
          50,
        );
        await engine.createSeries(
          shard,
          {
            ...common,
            id: sid,
            tokenHash: sha256(token),
            previousHash: null,
            rotatedAt: clock.now,
            expiresAt: clock.now + 60 * MIN,
          },
          50,
        );
        out.push((await service.authenticate(formatToken(shard, id, secret))).result);
        out.push((await service.useRemember(formatToken(shard, sid, token), client)).result);
      }
      return out;
    };
    expect(await results()).toEqual(['ok', 'ok', 'invalid', 'invalid', 'invalid', 'invalid']);
    layout.grownFrom = 4;
    expect(layout.owns(old, userId)).toBe(true);
    expect(layout.owns(other, userId)).toBe(false);
    expect(await results()).toEqual(['ok', 'ok', 'ok', 'ok', 'invalid', 'invalid']);
  });

  it('a node still configured with the old count accepts cookies naming shards of the grown one (ADR 260)', async () => {
    const settings = loadSettings({ env: { NODE_ENV: 'test' } });
    const clock = { now: 1_700_000_000_000 };
    const layout = new KeyLayout('hf', 16);
    const engine = new MemoryEngine(64, () => clock.now);
    const service = new SessionService(
      engine,
      layout,
      new SessionPolicy(settings.session),
      () => clock.now,
    );
    const userId = Array.from({ length: 50 }, (_, i) => `user-${i}`).find(
      (u) => shardUnder(u, 64) >= 16,
    )!;
    const shard = shardUnder(userId, 64);
    const [id, secret, sid, token] = [newId(), newSecret(), newId(), newSecret()];
    const common = { userId, createdAt: clock.now, lastSeenAt: clock.now, credentialVersion: 0 };
    await engine.create(
      shard,
      {
        ...common,
        id,
        secretHash: sha256(secret),
        method: 'password',
        expiresAt: clock.now + 30 * MIN,
        absoluteExpiresAt: clock.now + 60 * MIN,
        ip: client.ip,
        userAgent: client.userAgent,
        seriesId: null,
      },
      50,
    );
    const series = (seriesId: string, t: string) => ({
      ...common,
      id: seriesId,
      tokenHash: sha256(t),
      previousHash: null,
      rotatedAt: clock.now,
      expiresAt: clock.now + 60 * MIN,
    });
    await engine.createSeries(shard, series(sid, token), 50);
    const cookie = formatToken(shard, id, secret);
    const remember = formatToken(shard, sid, token);
    // Before the node knows of the growth: not a cookie of this deployment.
    expect((await service.authenticate(cookie)).result).toBe('invalid');
    expect((await service.useRemember(remember, client)).result).toBe('invalid');
    layout.grownTo = 64;
    expect((await service.authenticate(cookie)).result).toBe('ok');
    // Logout with the remember-me cookie ends its series on the grown shard.
    await service.forget(remember);
    expect((await service.useRemember(remember, client)).result).toBe('invalid');
    const [sid2, token2] = [newId(), newSecret()];
    await engine.createSeries(shard, series(sid2, token2), 50);
    expect((await service.useRemember(formatToken(shard, sid2, token2), client)).result).toBe('ok');
  });

  it('a programming error in the store is thrown as it is: never counted as an outage, never swallowed', async () => {
    const { service, engine, clock } = setup();
    const { token } = await service.create('user-1', client, 'password');
    const bug = new TypeError('a bug in the engine');
    jest.spyOn(engine as SessionEngine, 'get').mockRejectedValueOnce(bug);
    await expect(service.authenticate(token)).rejects.toBe(bug);
    expect(service.stats.auth.unavailable).toBe(0);
    clock.now += 10 * MIN; // renewal due
    // A renewal runs after the answer: its bug is emitted for the log, not thrown into a request.
    const failures: unknown[] = [];
    service.events.on('renewalFailed', (e) => failures.push(e));
    jest.spyOn(engine as SessionEngine, 'touch').mockRejectedValueOnce(bug);
    expect((await service.authenticate(token)).result).toBe('ok');
    await service.settled();
    expect(failures).toEqual([{ sessionId: parseToken(token, 16)!.id, error: bug }]);
    expect(service.stats.renewals).toBe(0);
  });

  it('a renewal never holds the answer, and parallel requests on one session send one renewal', async () => {
    const { service, engine, clock } = setup();
    const { token, session } = await service.create('user-1', client, 'password');
    clock.now += 10 * MIN; // renewal due
    let release: (applied: boolean) => void = () => {};
    const touch = jest
      .spyOn(engine as SessionEngine, 'touch')
      .mockImplementationOnce(() => new Promise<boolean>((resolve) => (release = resolve)));
    // The touch has not settled, yet every answer is here, with the renewed deadline.
    const answers = await Promise.all([1, 2, 3].map(() => service.authenticate(token)));
    expect(answers.map((a) => a.result === 'ok' && a.session.expiresAt)).toEqual(
      [1, 2, 3].map(() => clock.now + 30 * MIN),
    );
    expect(touch).toHaveBeenCalledTimes(1);
    expect(touch).toHaveBeenCalledWith(
      parseToken(token, 16)!.shard,
      session.id,
      clock.now,
      clock.now + 30 * MIN,
      clock.now,
    );
    let settled = false;
    const waiting = service.settled().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    release(false); // the session ended meanwhile: not counted as a renewal
    await waiting;
    expect(service.stats.renewals).toBe(0);
    // Once settled, the next request on the session may renew again.
    expect((await service.authenticate(token)).result).toBe('ok');
    await service.settled();
    expect(touch).toHaveBeenCalledTimes(2);
    expect(service.stats.renewals).toBe(1);
  });

  it('revokes one, all others, or all sessions of a user, and emits what it ended', async () => {
    const { service } = setup();
    const revoked: string[][] = [];
    service.events.on('revoked', (e) => revoked.push([e.reason, ...e.sessionIds]));
    const a = await service.create('user-1', client, 'password');
    const b = await service.create('user-1', client, 'password');
    const c = await service.create('user-1', client, 'password');
    const other = await service.create('user-2', client, 'password');
    expect(await service.revoke('user-2', a.session.id, 'revoke')).toBe(false); // not theirs
    expect(await service.revoke('user-1', a.session.id, 'revoke')).toBe(true);
    expect((await service.list('user-1')).map((s) => s.id)).toEqual([b.session.id, c.session.id]);
    expect(await service.revokeAll('user-1', 'password', c.session.id)).toEqual([b.session.id]);
    expect((await service.authenticate(c.token)).result).toBe('ok');
    expect((await service.authenticate(b.token)).result).toBe('invalid');
    expect((await service.authenticate(other.token)).result).toBe('ok');
    expect(revoked).toEqual([
      ['revoke', a.session.id],
      ['password', b.session.id],
    ]);
    // Nothing left to end: no event, no count.
    expect(await service.revokeAll('user-1', 'password', c.session.id)).toEqual([]);
    expect(revoked).toHaveLength(2);
    expect(service.stats.revoked).toMatchObject({ revoke: 1, password: 1 });
    expect(await service.count()).toEqual({ sessions: 2, users: 2, expired: 0 });
  });

  it('revokeEveryone ends every session and remember-me series of every user, on every shard', async () => {
    const { service } = setup();
    const ended: { sessions: number; series: number }[] = [];
    service.events.on('revokedEveryone', (e) => ended.push(e));
    // 40 users spread over the 16 shards, one with a remember-me series each.
    const issued = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        service.create(`user-${i}`, client, 'password', { remember: true }),
      ),
    );
    expect(new Set(issued.map((s) => parseToken(s.token, 16)?.shard)).size).toBeGreaterThan(8);

    expect(await service.revokeEveryone()).toEqual({ sessions: 40, series: 40 });
    for (const s of issued) {
      expect((await service.authenticate(s.token)).result).toBe('invalid');
      expect((await service.useRemember(s.rememberToken, client)).result).toBe('invalid');
    }
    expect(await service.count()).toEqual({ sessions: 0, users: 0, expired: 0 });
    expect(ended).toEqual([{ sessions: 40, series: 40 }]);
    expect(service.stats.revoked.admin).toBe(40);
    // A sign-in afterwards works as before.
    const later = await service.create('user-1', client, 'password');
    expect((await service.authenticate(later.token)).result).toBe('ok');
  });

  it('past session.maxPerUser, a new session ends the oldest and says so', async () => {
    const settings = loadSettings({
      env: { NODE_ENV: 'test' },
      overrides: { session: { maxPerUser: 2 } },
    });
    const clock = { now: 1_700_000_000_000 };
    const service = new SessionService(
      new MemoryEngine(16, () => clock.now),
      new KeyLayout('hf', 16),
      new SessionPolicy(settings.session),
      () => clock.now,
    );
    const revoked: Array<[string, readonly string[]]> = [];
    service.events.on('revoked', (e) => revoked.push([e.reason, e.sessionIds]));
    const first = await service.create('user-1', client, 'password');
    clock.now += 1000;
    const second = await service.create('user-1', client, 'password');
    clock.now += 1000;
    const third = await service.create('user-1', client, 'oauth');
    expect(revoked).toEqual([['evicted', [first.session.id]]]);
    expect(service.stats.revoked.evicted).toBe(1);
    expect((await service.authenticate(first.token)).result).toBe('invalid');
    expect((await service.list('user-1')).map((x) => x.id)).toEqual([
      second.session.id,
      third.session.id,
    ]);
    expect(service.stats.created).toMatchObject({ password: 2, oauth: 1 });
  });

  it('remember-me: rotates the token, tolerates parallel use within grace, treats later reuse as theft', async () => {
    const { service, clock } = setup();
    const keep = await service.create('user-1', client, 'password', { remember: true });
    const remember = keep.rememberToken!;

    const first = await service.useRemember(remember, client);
    expect(first.result).toBe('ok');
    const rotated = first.result === 'ok' ? first.rememberToken! : '';
    expect(rotated).not.toBe(remember);

    clock.now += 10_000; // a parallel request that still carried the old token
    const parallel = await service.useRemember(remember, client);
    expect(parallel.result === 'ok' && parallel.rememberToken).toBeUndefined();

    clock.now += 60_000; // past the 30 s grace: the old token is stolen
    const thefts: string[] = [];
    service.events.on('theft', (e) => thefts.push(e.userId));
    expect((await service.useRemember(remember, client)).result).toBe('theft');
    expect(thefts).toEqual(['user-1']);
    expect(service.stats.thefts).toBe(1);
    expect((await service.authenticate(keep.token)).result).toBe('invalid');
    expect((await service.useRemember(rotated, client)).result).toBe('invalid');
    expect(await service.list('user-1')).toEqual([]);
  });

  it('refuses a session (and its series) made under a credential version older than the epoch', async () => {
    const { service } = setup();
    const before = await service.create('user-1', client, 'password', { remember: true });
    expect(await service.revokeAll('user-1', 'password', undefined, 1)).toEqual([
      before.session.id,
    ]);
    await expect(
      service.create('user-1', client, 'password', { credentialVersion: 0, remember: true }),
    ).rejects.toBeInstanceOf(CredentialsChangedError);
    expect(await service.list('user-1')).toEqual([]);
    expect((await service.useRemember(before.rememberToken, client)).result).toBe('invalid');
    const after = await service.create('user-1', client, 'password', {
      credentialVersion: 1,
      remember: true,
    });
    expect(after.session.credentialVersion).toBe(1);
    // A session made from the series carries the version and the series on.
    const used = await service.useRemember(after.rememberToken, client);
    expect(used.result === 'ok' && used.issued.session).toMatchObject({
      credentialVersion: 1,
      seriesId: after.session.seriesId,
      method: 'remember',
    });
  });

  it('revoking the session that owns a series ends the series: its cookie brings nothing back', async () => {
    const { service } = setup();
    const device = await service.create('user-1', client, 'password', { remember: true });
    const other = await service.create('user-1', client, 'password', { remember: true });
    expect(await service.revoke('user-1', device.session.id, 'revoke')).toBe(true);
    expect((await service.useRemember(device.rememberToken, client)).result).toBe('invalid');
    expect((await service.useRemember(other.rememberToken, client)).result).toBe('ok');
  });

  it('forget (logout) ends a series only when the cookie carries its token', async () => {
    const { service } = setup();
    const { rememberToken } = await service.create('user-1', client, 'password', {
      remember: true,
    });
    const [shard, id] = rememberToken!.split('.');
    await service.forget(`${shard}.${id}.${'A'.repeat(43)}`);
    const used = await service.useRemember(rememberToken, client);
    expect(used.result).toBe('ok');
    const rotated = used.result === 'ok' ? used.rememberToken : undefined;
    await service.forget(rotated);
    expect((await service.useRemember(rotated, client)).result).toBe('invalid');
  });

  it('a failed renewal keeps the user logged in; a failed read is an outage, not a logout', async () => {
    const { service, engine, clock } = setup();
    const { token } = await service.create('user-1', client, 'password');
    clock.now += 10 * MIN;
    const down = new StoreUnavailableError('touch', new Error('connection closed'));
    const touch = jest.spyOn(engine as SessionEngine, 'touch').mockRejectedValueOnce(down);
    const failures: unknown[] = [];
    service.events.on('renewalFailed', (e) => failures.push(e));
    expect((await service.authenticate(token)).result).toBe('ok');
    await service.settled();
    expect(touch).toHaveBeenCalledTimes(1);
    expect(failures).toEqual([]); // an outage is not a bug to log
    expect(service.stats.renewals).toBe(0);
    jest.spyOn(engine as SessionEngine, 'get').mockRejectedValueOnce(down);
    await expect(service.authenticate(token)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(service.stats.auth.unavailable).toBe(1);
  });
});
