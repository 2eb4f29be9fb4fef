/**
 * The session store engine: storage only (catbox's split). Policy (TTLs, renewal, rotation) lives
 * in session/. Every method that changes a session touches one shard (one hash slot in a Redis
 * Cluster) and is atomic. Times are epoch milliseconds, given by the caller.
 */

/** How a session was established; stored as one byte. */
export type AuthMethod = 'password' | 'remember' | 'oauth' | 'rotation';

/** A session as stored. `secretHash` is SHA-256 of the cookie secret: the secret is never stored. */
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
}

export type SeriesUse =
  | { readonly result: 'rotated'; readonly userId: string }
  | { readonly result: 'grace'; readonly userId: string }
  | { readonly result: 'theft'; readonly userId: string }
  | { readonly result: 'missing' };

export interface SessionCounts {
  readonly sessions: number;
  readonly users: number;
  /** Expired index entries removed while counting. */
  readonly expired: number;
}

/** Plain counters kept by an engine (catbox `stats` style); metrics/ exports them. */
export interface EngineStats {
  /** Records that could not be decoded and were treated as no session. */
  malformed: number;
}

export interface SessionEngine {
  readonly kind: 'memory' | 'redis';
  readonly shards: number;
  readonly stats: EngineStats;

  start(): Promise<void>;
  stop(): Promise<void>;
  /** Throws StoreUnavailableError when the store does not answer. */
  ping(): Promise<void>;

  /** Stores a new session. Past `maxPerUser`, the user's oldest sessions are revoked; returns their ids. */
  create(shard: number, session: StoredSession, maxPerUser: number): Promise<string[]>;
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
  /** Replaces a live session by a new one atomically. False (and nothing written) when the old is gone. */
  rotate(shard: number, oldId: string, next: StoredSession, now: number): Promise<boolean>;
  /** Ends a session. With `userId`, only if it belongs to that user. True when something was removed. */
  revoke(shard: number, id: string, userId?: string): Promise<boolean>;
  /** Ends every session of a user (and every remember-me series) except `exceptId`; returns ended session ids. */
  revokeUser(shard: number, userId: string, exceptId?: string): Promise<string[]>;
  /** The user's live sessions, oldest first. */
  listUser(shard: number, userId: string, now: number): Promise<StoredSession[]>;
  /** Live sessions and users over every shard: O(shards) commands, never a scan. */
  count(now: number): Promise<SessionCounts>;

  createSeries(shard: number, series: StoredSeries): Promise<void>;
  /**
   * Presents a remember-me token (as its hash). Current token: rotates to `nextHash` ('rotated').
   * The previous token within `grace` of the rotation: 'grace', nothing changes. Anything else on a
   * known series: 'theft', and the series is deleted.
   */
  useSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    nextHash: Buffer,
    now: number,
    grace: number,
  ): Promise<SeriesUse>;
  revokeSeries(shard: number, id: string): Promise<boolean>;
}
