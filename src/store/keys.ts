import { createHash, hash } from 'node:crypto';
import type { SessionFormat } from './engine';

/**
 * Random bytes in a new session or series id, by the format a deployment writes (ADR 265): 12 in
 * format 4 (16 base64url characters, a 32-byte key allocation, 12 bytes in the user index), 16
 * before. Ids are public and need only be unique; the cookie's 256-bit secret authenticates.
 */
export const ID_BYTES: Readonly<Record<SessionFormat, number>> = { 3: 16, 4: 12 };

/**
 * Key layout. Every key of one user carries the hash tag `{<prefix>:<shard>}`, so a user's session
 * records, the user indexes and the shard's live index share one slot: each write is one atomic
 * script on one node, and nothing is ever CROSSSLOT.
 *
 *   {hf:17}:s:<sid>       STRING  packed session record (record-codec.ts), PEXPIREAT deadline + grace
 *   {hf:17}:live:<b>      ZSET    sid -> expiresAt, one of the shard's LIVE_BUCKETS active-session
 *                                 indexes (counts, sweeps); b = liveBucketOf(sid)
 *   {hf:17}:users:<u>     HASH    userId -> sids, oldest first (sum of HLEN = live users); u =
 *                                 userBucketOf(userId), one of USER_BUCKETS. Value: the sids that
 *                                 are not 16 base64url chars space-separated (22-char ones, as up to
 *                                 format 3), then, if any, "\0" and each 16-char sid (format 4) as
 *                                 its 12 raw bytes: 5 sessions in 61 bytes, a listpack value
 *                                 (src/store/lua/includes/user-index.lua)
 *   {hf:17}:r:<series>    STRING  packed remember-me series, PEXPIREAT expiresAt
 *   {hf:17}:rusers:<u>    HASH    userId -> series ids, the same value layout; u = userBucketOf(userId)
 *   {hf:17}:cred:<u>      HASH    userId -> credential epoch (ADR 040): sessions and series below it
 *                                 are refused; only users whose credentials ever changed have one
 *   {hf:17}:count         STRING  "<entries> <users> <due>": the shard's index sizes and a lower bound
 *                                 of its earliest deadline, kept by the same scripts (ADR 180)
 *   {hf:17}:due           ZSET    live bucket -> lower bound of its earliest deadline (ADR 180)
 *   {hf:17}:reshard       HASH    while the shard count grows (ADR 260): uid -> m (being moved) | d
 *                                 (moved), '#m' -> users being moved; only on shards that split
 *   {hf}:meta             HASH    layout recorded at first start (shards, buckets, format) for preflight
 *   {hf}:sweep-lease      STRING  the process that sweeps expired entries now, with a TTL (ADR 230)
 *   {hf}:reshard-lease    STRING  the process that runs `holdfast store reshard` now, with a TTL
 *
 * Why buckets: Redis keeps a ZSET of at most 128 entries (a HASH of at most 512) as a listpack,
 * about a third of the memory of a skiplist (hashtable). One `live` ZSET per shard holds
 * sessions / shards entries: 390 at 100k sessions and 256 shards, a skiplist at 121 B per entry
 * instead of 38 (docs/performance.md). Split into LIVE_BUCKETS sub-indexes in the same slot, each
 * holds sessions / (shards * LIVE_BUCKETS): 61 at 1M sessions, 122 at 2M. The user indexes
 * likewise: users / (shards * USER_BUCKETS) is 244 at 1M users. Scripts that count or sweep
 * iterate a shard's buckets inside one script, so a count stays O(shards) round trips.
 *
 * Both bucket functions are computed in Node and in Lua (src/store/lua/includes/buckets.lua):
 * they must stay equal (test/integration/store/redis-engine.test.ts checks both on real Redis).
 * Changing a bucket count strands every index entry: the counts are recorded in `{prefix}:meta`
 * and preflight (store.layout) refuses a mismatch.
 */
export const LIVE_BUCKETS = 64;
export const USER_BUCKETS = 16;
/** How many users' shards a layout remembers (about 100 B each). */
export const RECENT_USERS = 4096;

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Byte value -> base64url digit; bytes outside the alphabet count as 0 (as in Lua). */
const DIGIT = new Int8Array(256);
for (let i = 0; i < BASE64URL.length; i++) DIGIT[BASE64URL.charCodeAt(i)] = i;

/**
 * The live bucket of a session id: the first byte of the base64url-decoded id, mod LIVE_BUCKETS
 * (uniform for random ids). Computed on the UTF-8 bytes, like Lua, so any string maps the same
 * way on both sides; a byte outside base64url counts as digit 0.
 */
export function liveBucketOf(id: string): number {
  const head = Buffer.from(id.slice(0, 2), 'utf8');
  const first = (DIGIT[head[0] ?? 0] << 2) | (DIGIT[head[1] ?? 0] >> 4);
  return first % LIVE_BUCKETS;
}

/** The user-index bucket of a user id: the first byte of SHA-1(userId) mod USER_BUCKETS (Lua has SHA-1). */
export function userBucketOf(userId: string): number {
  return createHash('sha1').update(userId).digest()[0] % USER_BUCKETS;
}

export class KeyLayout {
  readonly liveBuckets = LIVE_BUCKETS;
  readonly userBuckets = USER_BUCKETS;
  /**
   * The shard count this one grew from (ADR 260), once a split is known: set by the Redis engine
   * from `{prefix}:meta`. Cookies made before name the user's shard under it.
   */
  grownFrom: number | undefined;
  /**
   * The shard count this one grows or grew to (ADR 260), above `shards`: nodes still configured
   * with the old count accept cookies that nodes with the new one issue. Set by the Redis engine.
   */
  grownTo: number | undefined;

  /**
   * shardOf's answers for the users seen last: its SHA-256 was 6 % of the worker's CPU on a
   * near-cache hit (owns() checks every cookie). Emptied when full: a bound, not an LRU.
   */
  private readonly recentShards = new Map<string, number>();

  constructor(
    readonly prefix: string,
    readonly shards: number,
  ) {}

  tag(shard: number): string {
    return `{${this.prefix}:${shard}}`;
  }
  session(shard: number, id: string): string {
    return `${this.tag(shard)}:s:${id}`;
  }
  sessionPrefix(shard: number): string {
    return `${this.tag(shard)}:s:`;
  }
  /** The live sub-index holding session `id`. */
  live(shard: number, id: string): string {
    return `${this.livePrefix(shard)}${liveBucketOf(id)}`;
  }
  /** Bucket `b` appended gives a live sub-index (scripts that iterate a shard's buckets). */
  livePrefix(shard: number): string {
    return `${this.tag(shard)}:live:`;
  }
  /** Every live sub-index of a shard. */
  liveKeys(shard: number): string[] {
    return Array.from({ length: this.liveBuckets }, (_, b) => `${this.livePrefix(shard)}${b}`);
  }
  /** The user index holding `userId`'s sessions. */
  users(shard: number, userId: string): string {
    return `${this.usersPrefix(shard)}${userBucketOf(userId)}`;
  }
  usersPrefix(shard: number): string {
    return `${this.tag(shard)}:users:`;
  }
  /** Every user index of a shard. */
  usersKeys(shard: number): string[] {
    return Array.from({ length: this.userBuckets }, (_, b) => `${this.usersPrefix(shard)}${b}`);
  }
  series(shard: number, id: string): string {
    return `${this.tag(shard)}:r:${id}`;
  }
  seriesPrefix(shard: number): string {
    return `${this.tag(shard)}:r:`;
  }
  /** The series index holding `userId`'s remember-me series. */
  seriesUsers(shard: number, userId: string): string {
    return `${this.seriesUsersPrefix(shard)}${userBucketOf(userId)}`;
  }
  seriesUsersPrefix(shard: number): string {
    return `${this.tag(shard)}:rusers:`;
  }
  /** The HASH holding `userId`'s credential epoch (same slot as the user's sessions). */
  credentials(shard: number, userId: string): string {
    return `${this.credentialsPrefix(shard)}${userBucketOf(userId)}`;
  }
  credentialsPrefix(shard: number): string {
    return `${this.tag(shard)}:cred:`;
  }
  /** The shard's live counter, "<entries> <users> <due>" (ADR 180). */
  counter(shard: number): string {
    return `${this.tag(shard)}:count`;
  }
  /** Live bucket -> a lower bound of its earliest deadline: the buckets a sweep must visit. */
  due(shard: number): string {
    return `${this.tag(shard)}:due`;
  }
  /** The shard's split state while the shard count grows (ADR 260). */
  reshard(shard: number): string {
    return `${this.tag(shard)}:reshard`;
  }
  meta(): string {
    return `{${this.prefix}}:meta`;
  }
  /** Who runs `holdfast store reshard` now: one process at a time (ADR 260). */
  reshardLease(): string {
    return `{${this.prefix}}:reshard-lease`;
  }
  /** Who sweeps expired entries now: one process of the deployment at a time (ADR 230). */
  sweepLease(): string {
    return `{${this.prefix}}:sweep-lease`;
  }

  /** A user's shard: stable for a deployment as long as `shards` does not change (preflight guards it). */
  shardOf(userId: string): number {
    let shard = this.recentShards.get(userId);
    if (shard === undefined) {
      shard = shardUnder(userId, this.shards);
      if (this.recentShards.size >= RECENT_USERS) this.recentShards.clear();
      this.recentShards.set(userId, shard);
    }
    return shard;
  }

  /**
   * Whether a cookie's `shard` is `userId`'s: their shard now, or, after the count grew (ADR
   * 260), their shard under the count it grew from (h mod kS mod S = h mod S) or to.
   */
  owns(shard: number, userId: string): boolean {
    const now = this.shardOf(userId);
    if (now === shard) return true;
    if (this.grownFrom !== undefined && now % this.grownFrom === shard) return true;
    return this.grownTo !== undefined && shardUnder(userId, this.grownTo) === shard;
  }

  /** The shards a cookie may name: the grown count's too once a split is known (ADR 260). */
  get tokenShards(): number {
    return Math.max(this.shards, this.grownTo ?? 0);
  }
}

/**
 * A user's shard under `shards` shards. Under k·S shards it is s, s+S, … or s+(k−1)S where s is
 * the user's shard under S (h mod kS mod S = h mod S): what lets the count grow (ADR 260).
 */
export function shardUnder(userId: string, shards: number): number {
  return hash('sha256', userId, 'buffer').readUInt32BE(0) % shards;
}

/** Records outlive their deadline by this much in Redis so the sweep can still read their owner. */
export const SWEEP_GRACE_MS = 24 * 3_600_000;
