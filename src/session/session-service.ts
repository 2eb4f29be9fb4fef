import { StoreUnavailableError } from '../errors';
import type { AuthMethod, SessionEngine, ShardRevoked, StoredSession } from '../store/engine';
import { ID_BYTES, type KeyLayout } from '../store/keys';
import { CredentialsChangedError } from './errors';
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
  /** The remember-me cookie value, when `remember` was asked for. Never logged, never stored. */
  readonly rememberToken?: string;
}

export interface CreateOptions {
  /**
   * The user's credential version, read together with the credentials just checked
   * (User.credentialVersion; 0 for a user whose credentials never changed). When a credential
   * change raised the user's epoch past it meanwhile, the store refuses the session and create
   * throws CredentialsChangedError (ADR 040).
   */
  readonly credentialVersion?: number;
  /** Also start a remember-me series that belongs to this session (ADR 041). */
  readonly remember?: boolean;
  /** The remember-me series this session is made from (remember-me use): it passes on. */
  readonly seriesId?: string;
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
  /** Renewals in flight, by session id (see renew). */
  private readonly renewing = new Map<string, Promise<void>>();

  constructor(
    readonly engine: SessionEngine,
    private readonly layout: KeyLayout,
    private readonly policy: SessionPolicy,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A new session or series id, as long as the format the store writes now wants (ADR 265). */
  private newId(): string {
    return newId(ID_BYTES[this.engine.sessionFormat]);
  }

  /**
   * A new session (login, OAuth, remember-me): always a new id, so nothing can be fixed in advance.
   * With `remember`, a remember-me series owned by the session too. Throws CredentialsChangedError
   * when the user's credentials changed after `credentialVersion` was read.
   */
  async create(
    userId: string,
    client: ClientInfo,
    method: AuthMethod,
    options: CreateOptions = {},
  ): Promise<IssuedSession> {
    const now = this.clock();
    const shard = this.layout.shardOf(userId);
    const secret = newSecret();
    const credentialVersion = options.credentialVersion ?? 0;
    const seriesId = options.remember ? this.newId() : (options.seriesId ?? null);
    const session: StoredSession = {
      id: this.newId(),
      userId,
      secretHash: hashSecret(secret),
      method,
      createdAt: now,
      lastSeenAt: now,
      ...this.policy.initial(now),
      ip: client.ip,
      userAgent: client.userAgent,
      credentialVersion,
      seriesId,
    };
    const evicted = await this.engine.create(shard, session, this.policy.maxPerUser);
    if (evicted === null) throw new CredentialsChangedError();
    this.stats.created[method]++;
    this.events.emit('created', { userId, sessionId: session.id, method });
    if (evicted.length) this.noteRevoked(userId, evicted, 'evicted');
    const token = formatToken(shard, session.id, secret);
    if (!options.remember || seriesId === null) return { token, session };

    const rememberSecret = newSecret();
    const stored = await this.engine.createSeries(
      shard,
      {
        id: seriesId,
        userId,
        tokenHash: hashSecret(rememberSecret),
        previousHash: null,
        rotatedAt: now,
        expiresAt: now + this.policy.rememberTtl,
        credentialVersion,
      },
      this.policy.maxRememberPerUser,
    );
    // Refused: the epoch rose after the session was stored, and the same script that raised it
    // ended every session of the user, this one included.
    if (!stored) throw new CredentialsChangedError();
    return { token, session, rememberToken: formatToken(shard, seriesId, rememberSecret) };
  }

  /**
   * Checks a cookie value: one store read, plus one renewal write when due. Throws
   * StoreUnavailableError when the store cannot answer: an outage is never "no session".
   * Neither the user record nor the credential epoch is read here (the hot path stays one GET):
   * a session outlives a credential change, disable or delete only if it was never made, because
   * the step that raises the epoch ends every session of the user and nothing below it can be
   * created afterwards (ADR 040).
   */
  async authenticate(raw: string | undefined): Promise<Authentication> {
    if (!raw) return this.decided({ result: 'missing' });
    const parsed = parseToken(raw, this.layout.tokenShards);
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
      !this.layout.owns(parsed.shard, session.userId)
    ) {
      return this.decided({ result: 'invalid' });
    }
    const renewTo = this.policy.renewal(session, now);
    if (renewTo === null) return this.decided({ result: 'ok', session });
    // The renewal is sent, not awaited: a slow or frozen master must not hold this answer
    // (ADR 205). The read proved the session valid; a renewal that fails is redone next time.
    this.renew(parsed.shard, session, now, renewTo);
    return this.decided({
      result: 'ok',
      session: { ...session, lastSeenAt: now, expiresAt: renewTo },
    });
  }

  /**
   * Replaces a session by a new id and secret (password or privilege change). Null if it ended
   * meanwhile, or if `overrides.credentialVersion` (by default the session's own) is below the
   * user's credential epoch. A password change passes the new version (and no series).
   * `authenticated`: the user just proved who they are again (re-authentication is a new
   * authentication, ASVS V7.2.4): the new session records that method and now as its start, which
   * is what makes it count as recently authenticated. Its absolute deadline stays.
   */
  async rotate(
    current: StoredSession,
    client: ClientInfo,
    overrides: Partial<Pick<StoredSession, 'credentialVersion' | 'seriesId'>> = {},
    authenticated?: 'password' | 'oauth',
  ): Promise<IssuedSession | null> {
    const now = this.clock();
    const shard = this.layout.shardOf(current.userId);
    const secret = newSecret();
    const method = authenticated ?? 'rotation';
    const next: StoredSession = {
      ...current,
      id: this.newId(),
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
      ...overrides,
    };
    if (!(await this.engine.rotate(shard, current.id, next, now))) return null;
    this.stats.created[method]++;
    this.noteRevoked(current.userId, [current.id], 'rotation');
    this.events.emit('created', { userId: current.userId, sessionId: next.id, method });
    return { token: formatToken(shard, next.id, secret), session: next };
  }

  /**
   * Ends one session of a user and the remember-me series it belongs to. False when it does not
   * exist or belongs to someone else.
   */
  async revoke(userId: string, sessionId: string, reason: RevokeReason): Promise<boolean> {
    const done = await this.engine.revoke(this.layout.shardOf(userId), sessionId, userId);
    if (done) this.noteRevoked(userId, [sessionId], reason);
    return done;
  }

  /**
   * Ends every session of the user but `exceptId` (and every remember-me series). With
   * `credentialVersion` (after a credential change), raises the user's credential epoch to it in
   * the same atomic step: no session or series made under an older version can appear later.
   */
  async revokeAll(
    userId: string,
    reason: RevokeReason,
    exceptId?: string,
    credentialVersion?: number,
  ): Promise<string[]> {
    const ended = await this.engine.revokeUser(
      this.layout.shardOf(userId),
      userId,
      exceptId,
      credentialVersion,
    );
    if (ended.length) this.noteRevoked(userId, ended, reason);
    return ended;
  }

  /**
   * Ends every session and remember-me series of every user (ASVS V7.4.5: after a breach, or a
   * change of cookie.password's meaning). One atomic script per shard: a login that completes
   * after its shard was swept is a new sign-in and keeps its session. Credential epochs stay.
   */
  async revokeEveryone(): Promise<ShardRevoked> {
    const ended = { sessions: 0, series: 0 };
    // Every shard at once: auto-pipelining sends each node its scripts together (like count).
    const shards = await Promise.all(
      Array.from({ length: this.layout.shards }, (_, shard) => this.engine.revokeShard(shard)),
    );
    for (const s of shards) {
      ended.sessions += s.sessions;
      ended.series += s.series;
    }
    this.stats.revoked.admin += ended.sessions;
    this.events.emit('revokedEveryone', ended);
    return ended;
  }

  list(userId: string): Promise<StoredSession[]> {
    return this.engine.listUser(this.layout.shardOf(userId), userId, this.clock());
  }

  count(): ReturnType<SessionEngine['count']> {
    return this.engine.count(this.clock());
  }

  /**
   * Logs in with a remember-me cookie: a fresh session, and a rotated remember token. The token
   * just replaced still works within the grace window (parallel requests); after it, reuse is
   * theft: the series and all of the user's sessions end.
   */
  async useRemember(raw: string | undefined, client: ClientInfo): Promise<RememberUse> {
    const parsed = parseToken(raw, this.layout.tokenShards);
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
    if (!this.layout.owns(parsed.shard, use.userId)) return { result: 'invalid' };
    if (use.result === 'theft') {
      this.stats.thefts++;
      this.events.emit('theft', { userId: use.userId, seriesId: parsed.id });
      await this.revokeAll(use.userId, 'theft');
      return { result: 'theft' };
    }
    let issued: IssuedSession;
    try {
      // The new session belongs to the series and carries the version the series was made under.
      issued = await this.create(use.userId, client, 'remember', {
        credentialVersion: use.credentialVersion,
        seriesId: parsed.id,
      });
    } catch (err) {
      if (err instanceof CredentialsChangedError) return { result: 'invalid' };
      throw err;
    }
    const rememberToken =
      use.result === 'rotated' ? formatToken(parsed.shard, parsed.id, next) : undefined;
    return { result: 'ok', issued, rememberToken };
  }

  /**
   * Ends the remember-me series of a cookie value (logout), only when the cookie's token is the
   * series' token (or the one just replaced, within the grace window): a series id alone ends
   * nothing.
   */
  async forget(raw: string | undefined): Promise<void> {
    const parsed = parseToken(raw, this.layout.tokenShards);
    if (!parsed) return;
    await this.engine.revokeSeries(
      parsed.shard,
      parsed.id,
      hashSecret(parsed.secret),
      this.clock(),
      this.policy.rememberGrace,
    );
  }

  /**
   * Sends a session's renewal in the background, at most one per session at a time (parallel
   * requests on one session renew it once). An unavailable store is ignored (the next request
   * renews again); any other error is emitted as `renewalFailed`, never thrown into a request.
   */
  private renew(shard: number, s: StoredSession, now: number, expiresAt: number): void {
    if (this.renewing.has(s.id)) return;
    const write = this.engine.touch(shard, s.id, now, expiresAt, now).then(
      (applied) => {
        if (applied) this.stats.renewals++;
      },
      (err: unknown) => {
        if (!(err instanceof StoreUnavailableError)) {
          this.events.emit('renewalFailed', { sessionId: s.id, error: err });
        }
      },
    );
    this.renewing.set(
      s.id,
      write.finally(() => this.renewing.delete(s.id)),
    );
  }

  /** Resolves when every renewal sent so far has settled (shutdown, tests). */
  async settled(): Promise<void> {
    while (this.renewing.size > 0) await Promise.all(this.renewing.values());
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
