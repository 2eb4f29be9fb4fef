/**
 * The session store engine: storage only (catbox's split). Policy (TTLs, renewal, rotation) lives
 * in session/. Every method that changes a session touches one shard (one hash slot in a Redis
 * Cluster) and is atomic. Times are epoch milliseconds, given by the caller.
 */

/**
 * A session record format this build reads and writes (ADR 265): 3, or 4 with 12-byte session ids,
 * a 16-byte secret verifier and a compact user index. A deployment writes one of them at a time.
 */
export type SessionFormat = 3 | 4;

/** How a session was established; stored as one byte. */
export type AuthMethod = 'password' | 'remember' | 'oauth' | 'rotation';

/**
 * A session as stored. `secretHash` is SHA-256 of the cookie secret (32 bytes; read back from a
 * format-4 record, its first 16): the secret is never stored.
 */
export interface StoredSession {
  readonly id: string;
  readonly userId: string;
  readonly secretHash: Buffer;
  readonly method: AuthMethod;
  readonly createdAt: number;
  /** Time of the last renewal write (not of every request: renewal is throttled). */
  readonly lastSeenAt: number;
  /** Idle deadline, never past absoluteExpiresAt. */
  readonly expiresAt: number;
  readonly absoluteExpiresAt: number;
  readonly ip: string;
  readonly userAgent: string;
  /**
   * The user's credential version when the session was made (ADR 040). The store refuses to create
   * or rotate a session below the user's credential epoch, which every credential change raises
   * in the same script that ends the user's sessions: no session older than the change can exist.
   */
  readonly credentialVersion: number;
  /**
   * The remember-me series this session belongs to (it started the series, or was started by it);
   * revoking the session ends the series (ADR 041). Null: none.
   */
  readonly seriesId: string | null;
}

/** A remember-me series: the series id stays, the token rotates on use. Both hashed at rest. */
export interface StoredSeries {
  readonly id: string;
  readonly userId: string;
  readonly tokenHash: Buffer;
  /** The token replaced at the last rotation, accepted until rotatedAt + grace. */
  readonly previousHash: Buffer | null;
  readonly rotatedAt: number;
  readonly expiresAt: number;
  /** The user's credential version when the series started; it passes to the sessions it makes. */
  readonly credentialVersion: number;
}

export type SeriesUse =
  | {
      readonly result: 'rotated' | 'grace';
      readonly userId: string;
      readonly credentialVersion: number;
    }
  | { readonly result: 'theft'; readonly userId: string }
  | { readonly result: 'missing' };

export interface SessionCounts {
  readonly sessions: number;
  readonly users: number;
  /** Expired index entries removed while counting (shards a count had to sweep itself). */
  readonly expired: number;
  /**
   * Present when the figures may include sessions that expired but were not swept yet (ADR 230):
   * at most how long ago (ms) the oldest of them expired. Never more than the engine's count lag
   * bound; absent when the answer is exact at `now`.
   */
  readonly lagMs?: number;
}

/** What one sweep of every shard removed (ADR 230). */
export interface SweepResult {
  /** Expired index entries removed (records, live entries and user-index entries). */
  readonly expired: number;
  /** Shards visited by a sweep script (those whose counter said something was due). */
  readonly shards: number;
  /** Entries still due when the sweep's budget ran out (the next sweep takes them). */
  readonly remaining: number;
}

/**
 * Expiry sweeping apart from counting (ADR 230): a count reads counters, and one process of the
 * deployment at a time (the lease holder) sweeps what expired, every few seconds.
 */
export interface ExpirySweeping {
  /** Sweeps every shard that holds something due at `now` (bounded work per shard). */
  sweep(now: number): Promise<SweepResult>;
  /**
   * Takes or extends the sweep lease for `owner` for `ttlMs` (0: gives it back). True while
   * `owner` holds it. A store shared by several processes holds one lease for all of them.
   */
  lease(owner: string, ttlMs: number): Promise<boolean>;
}

/** What revokeShard ended. */
export interface ShardRevoked {
  readonly sessions: number;
  readonly series: number;
}

/** Plain counters kept by an engine (catbox `stats` style); metrics/ exports them. */
export interface EngineStats {
  /** Records that could not be decoded and were treated as no session. */
  malformed: number;
  /** Shard counters built from the indexes where none existed (data of an earlier version; ADR 180). */
  countersBuilt: number;
  /** Shard counters found different from their indexes and rebuilt (should stay 0; ADR 180). */
  countersRepaired: number;
  /** Session reads answered by a replica because the master failed or was slow (ADR 205). */
  replicaReads: number;
}

export interface SessionEngine {
  readonly kind: 'memory' | 'redis';
  readonly shards: number;
  /** The session format this engine writes now (ADR 265); it reads both, whatever this says. */
  readonly sessionFormat: SessionFormat;
  readonly stats: EngineStats;

  start(): Promise<void>;
  stop(): Promise<void>;
  /** Throws StoreUnavailableError when the store does not answer. */
  ping(): Promise<void>;

  /**
   * Stores a new session. Past `maxPerUser`, the user's oldest sessions are revoked (with their
   * remember-me series); returns their ids. Null, and nothing written, when the user's credential
   * epoch is above `session.credentialVersion` (the credentials changed since they were read).
   * A version above the epoch is a credential change whose revocation never landed (ADR 273): the
   * epoch rises to it and every session and series made under an older version ends first (their
   * ids lead the returned list).
   */
  create(shard: number, session: StoredSession, maxPerUser: number): Promise<string[] | null>;
  /** One read. Null when absent, expired (deadline checked here, not only by TTL) or malformed. */
  get(shard: number, id: string, now: number): Promise<StoredSession | null>;
  /** Extends a live session. False when it no longer exists or has expired: never resurrects. */
  touch(
    shard: number,
    id: string,
    lastSeenAt: number,
    expiresAt: number,
    now: number,
  ): Promise<boolean>;
  /**
   * Replaces a live session by a new one atomically. False (and nothing written) when the old is
   * gone, or when the user's credential epoch is above `next.credentialVersion`.
   */
  rotate(shard: number, oldId: string, next: StoredSession, now: number): Promise<boolean>;
  /**
   * Ends a session and the remember-me series it belongs to. With `userId`, only if it belongs to
   * that user. True when something was removed.
   */
  revoke(shard: number, id: string, userId?: string): Promise<boolean>;
  /**
   * Ends every session of a user (and every remember-me series) except `exceptId`; returns ended
   * session ids. With `epoch`, raises the user's credential epoch to it in the same step, so no
   * session or series below it can be created afterwards (a credential change, disable, delete).
   */
  revokeUser(shard: number, userId: string, exceptId?: string, epoch?: number): Promise<string[]>;
  /**
   * Ends every session and remember-me series of one shard, atomically (operators ending all
   * users' sessions). Returns how many records existed.
   */
  revokeShard(shard: number): Promise<ShardRevoked>;
  /** The user's live sessions, oldest first. */
  listUser(shard: number, userId: string, now: number): Promise<StoredSession[]>;
  /**
   * Live sessions and users over every shard: O(shards) reads of per-shard counters (ADR 180),
   * never a scan. Exact at `now`, except that an engine given a count lag bound (ADR 230) may
   * count sessions that expired less than that bound ago and were not swept yet (see `lagMs`).
   */
  count(now: number): Promise<SessionCounts>;

  /**
   * Stores a remember-me series; past `maxPerUser` series, the user's oldest end. False, and
   * nothing written, when the user's credential epoch is above `series.credentialVersion`.
   */
  createSeries(shard: number, series: StoredSeries, maxPerUser: number): Promise<boolean>;
  /**
   * Presents a remember-me token (as its hash). Current token: rotates to `nextHash` ('rotated').
   * The previous token within `grace` of the rotation: 'grace', nothing changes. Anything else on a
   * known series: 'theft', and the series is deleted. A series below the user's credential epoch
   * is deleted and reported 'missing'.
   */
  useSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    nextHash: Buffer,
    now: number,
    grace: number,
  ): Promise<SeriesUse>;
  /**
   * Ends a series (logout), only when `presentedHash` is its current token, or its previous one
   * within `grace` of the rotation: knowing a series id alone ends nothing.
   */
  revokeSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    now: number,
    grace: number,
  ): Promise<boolean>;
}
