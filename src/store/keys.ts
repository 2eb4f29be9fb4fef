import { createHash } from 'node:crypto';

/**
 * Key layout. Every key of one user carries the hash tag `{<prefix>:<shard>}`, so a user's session
 * records, the user index and the shard's live index share one slot: each write is one atomic
 * script on one node, and nothing is ever CROSSSLOT.
 *
 *   {hf:17}:s:<sid>     STRING  packed session record (record-codec.ts), PEXPIREAT deadline + grace
 *   {hf:17}:live        ZSET    sid -> expiresAt, the shard's active-session index (counts, sweeps)
 *   {hf:17}:users       HASH    userId -> space-separated sids, oldest first (HLEN = live users)
 *   {hf:17}:r:<series>  STRING  packed remember-me series, PEXPIREAT expiresAt
 *   {hf:17}:rusers      HASH    userId -> space-separated series ids
 *   {hf}:meta           HASH    layout recorded at first start (shards, format) for preflight
 */
export class KeyLayout {
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
  live(shard: number): string {
    return `${this.tag(shard)}:live`;
  }
  users(shard: number): string {
    return `${this.tag(shard)}:users`;
  }
  series(shard: number, id: string): string {
    return `${this.tag(shard)}:r:${id}`;
  }
  seriesPrefix(shard: number): string {
    return `${this.tag(shard)}:r:`;
  }
  seriesUsers(shard: number): string {
    return `${this.tag(shard)}:rusers`;
  }
  meta(): string {
    return `{${this.prefix}}:meta`;
  }

  /** A user's shard: stable for a deployment as long as `shards` does not change (preflight guards it). */
  shardOf(userId: string): number {
    return createHash('sha256').update(userId).digest().readUInt32BE(0) % this.shards;
  }
}

/** Records outlive their deadline by this much in Redis so the sweep can still read their owner. */
export const SWEEP_GRACE_MS = 24 * 3_600_000;
