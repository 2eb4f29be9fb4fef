import { StoreUnavailableError } from '../errors';
import type { AuthMethod, SessionEngine, StoredSession } from '../store/engine';
import type { KeyLayout } from '../store/keys';
import { AuthResult, emptyStats, RevokeReason, SessionEvents, SessionStats } from './events';
import type { SessionPolicy } from './policy';
import { formatToken, hashSecret, newId, newSecret, parseToken, secretMatches } from './token';

/** Where a request comes from; stored with the session for the user's device list. */
export interface ClientInfo {
  readonly ip: string;
  /** A device label (deviceLabel of the User-Agent header, e.g. "Firefox 130 on Linux"). */
  readonly userAgent: string;
}

export interface IssuedSession {
  /** The cookie value. Only ever handed to the cookie jar: never logged, never stored. */
  readonly token: string;
  readonly session: StoredSession;
}

export type Authentication =
  | { readonly result: 'ok'; readonly session: StoredSession }
  | { readonly result: Exclude<AuthResult, 'ok' | 'unavailable'> };

export type RememberUse =
  | { readonly result: 'ok'; readonly issued: IssuedSession; readonly rememberToken?: string }
  | { readonly result: 'theft' | 'invalid' };

/**
 * Creates, checks, renews, rotates and ends sessions: the policy over an engine. Emits events and
 * keeps counters; knows nothing of HTTP.
 */
export class SessionService {
  readonly events = new SessionEvents();
  readonly stats: SessionStats = emptyStats();

  constructor(
    readonly engine: SessionEngine,
    private readonly layout: KeyLayout,
    private readonly policy: SessionPolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A new session (login, OAuth, remember-me): always a new id, so nothing can be fixed in advance. */
  async create(userId: string, client: ClientInfo, method: AuthMethod): Promise<IssuedSession> {
    const now = this.clock();
    const shard = this.layout.shardOf(userId);
    const secret = newSecret();
    const session: StoredSession = {
      id: newId(),
      userId,
      secretHash: hashSecret(secret),
      method,
      createdAt: now,
      lastSeenAt: now,
      ...this.policy.initial(now),
      ip: client.ip,
      userAgent: client.userAgent,
    };
    const evicted = await this.engine.create(shard, session, this.policy.maxPerUser);
    this.stats.created[method]++;
    this.events.emit('created', { userId, sessionId: session.id, method });
    if (evicted.length) this.noteRevoked(userId, evicted, 'evicted');
    return { token: formatToken(shard, session.id, secret), session };
  }

  /**
   * Checks a cookie value: one store read, plus one renewal write when due. Throws
   * StoreUnavailableError when the store cannot answer: an outage is never "no session".
   */
  async authenticate(raw: string | undefined): Promise<Authentication> {
    if (!raw) return this.decided({ result: 'missing' });
    const parsed = parseToken(raw, this.layout.shards);
    if (!parsed) return this.decided({ result: 'invalid' });
    const now = this.clock();
    let session: StoredSession | null;
    try {
      session = await this.engine.get(parsed.shard, parsed.id, now);
    } catch (err) {
      if (err instanceof StoreUnavailableError) this.stats.auth.unavailable++;
      throw err;
    }
    if (
      !session ||
      !secretMatches(parsed.secret, session.secretHash) ||
      this.layout.shardOf(session.userId) !== parsed.shard
    ) {
      return this.decided({ result: 'invalid' });
    }
    const renewTo = this.policy.renewal(session, now);
    if (renewTo !== null) session = await this.renew(parsed.shard, session, now, renewTo);
    return session ? this.decided({ result: 'ok', session }) : this.decided({ result: 'invalid' });
  }

  /**
   * Replaces a session by a new id and secret (password or privilege change). Null if it ended
   * meanwhile. `authenticated`: the user just proved who they are again (re-authentication is a
   * new authentication, ASVS V7.2.4): the new session records that method and now as its start,
   * which is what makes it count as recently authenticated. Its absolute deadline stays.
   */
  async rotate(
    current: StoredSession,
    client: ClientInfo,
    authenticated?: 'password' | 'oauth',
  ): Promise<IssuedSession | null> {
    const now = this.clock();
    const shard = this.layout.shardOf(current.userId);
    const secret = newSecret();
    const method = authenticated ?? 'rotation';
    const next: StoredSession = {
      ...current,
      id: newId(),
      secretHash: hashSecret(secret),
      method,
      createdAt: authenticated ? now : current.createdAt,
      lastSeenAt: now,
      expiresAt: Math.min(
        now + (current.expiresAt - current.lastSeenAt),
        current.absoluteExpiresAt,
      ),
      ip: client.ip,
      userAgent: client.userAgent,
    };
    if (!(await this.engine.rotate(shard, current.id, next, now))) return null;
    this.stats.created[method]++;
    this.noteRevoked(current.userId, [current.id], 'rotation');
    this.events.emit('created', { userId: current.userId, sessionId: next.id, method });
    return { token: formatToken(shard, next.id, secret), session: next };
  }

  /** Ends one session of a user. False when it does not exist or belongs to someone else. */
  async revoke(userId: string, sessionId: string, reason: RevokeReason): Promise<boolean> {
    const done = await this.engine.revoke(this.layout.shardOf(userId), sessionId, userId);
    if (done) this.noteRevoked(userId, [sessionId], reason);
    return done;
  }

  /** Ends every session of the user but `exceptId` (and every remember-me series). */
  async revokeAll(userId: string, reason: RevokeReason, exceptId?: string): Promise<string[]> {
    const ended = await this.engine.revokeUser(this.layout.shardOf(userId), userId, exceptId);
    if (ended.length) this.noteRevoked(userId, ended, reason);
    return ended;
  }

  list(userId: string): Promise<StoredSession[]> {
    return this.engine.listUser(this.layout.shardOf(userId), userId, this.clock());
  }

  count(): ReturnType<SessionEngine['count']> {
    return this.engine.count(this.clock());
  }

  /** Starts a remember-me series; returns the cookie value. */
  async remember(userId: string): Promise<string> {
    const now = this.clock();
    const shard = this.layout.shardOf(userId);
    const token = newSecret();
    const id = newId();
    await this.engine.createSeries(shard, {
      id,
      userId,
      tokenHash: hashSecret(token),
      previousHash: null,
      rotatedAt: now,
      expiresAt: now + this.policy.rememberTtl,
    });
    return formatToken(shard, id, token);
  }

  /**
   * Logs in with a remember-me cookie: a fresh session, and a rotated remember token. The token
   * just replaced still works within the grace window (parallel requests); after it, reuse is
   * theft: the series and all of the user's sessions end.
   */
  async useRemember(raw: string | undefined, client: ClientInfo): Promise<RememberUse> {
    const parsed = parseToken(raw, this.layout.shards);
    if (!parsed) return { result: 'invalid' };
    const next = newSecret();
    const use = await this.engine.useSeries(
      parsed.shard,
      parsed.id,
      hashSecret(parsed.secret),
      hashSecret(next),
      this.clock(),
      this.policy.rememberGrace,
    );
    if (use.result === 'missing') return { result: 'invalid' };
    if (this.layout.shardOf(use.userId) !== parsed.shard) return { result: 'invalid' };
    if (use.result === 'theft') {
      this.stats.thefts++;
      this.events.emit('theft', { userId: use.userId, seriesId: parsed.id });
      await this.revokeAll(use.userId, 'theft');
      return { result: 'theft' };
    }
    const issued = await this.create(use.userId, client, 'remember');
    const rememberToken =
      use.result === 'rotated' ? formatToken(parsed.shard, parsed.id, next) : undefined;
    return { result: 'ok', issued, rememberToken };
  }

  /** Ends the remember-me series named by a cookie value (logout). */
  async forget(raw: string | undefined): Promise<void> {
    const parsed = parseToken(raw, this.layout.shards);
    if (parsed) await this.engine.revokeSeries(parsed.shard, parsed.id);
  }

  private async renew(
    shard: number,
    s: StoredSession,
    now: number,
    expiresAt: number,
  ): Promise<StoredSession | null> {
    try {
      if (!(await this.engine.touch(shard, s.id, now, expiresAt, now))) return null; // ended meanwhile
      this.stats.renewals++;
      return { ...s, lastSeenAt: now, expiresAt };
    } catch (err) {
      // The read already proved the session valid until its current deadline; a failed renewal
      // must not log anyone out. The next request retries it.
      if (err instanceof StoreUnavailableError) return s;
      throw err;
    }
  }

  private decided(a: Authentication): Authentication {
    this.stats.auth[a.result]++;
    return a;
  }

  private noteRevoked(userId: string, sessionIds: readonly string[], reason: RevokeReason): void {
    this.stats.revoked[reason] += sessionIds.length;
    this.events.emit('revoked', { userId, sessionIds, reason });
  }
}
