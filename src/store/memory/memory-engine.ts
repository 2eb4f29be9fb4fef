import type {
  ExpirySweeping,
  SweepResult,
  EngineStats,
  SeriesUse,
  SessionCounts,
  SessionEngine,
  ShardRevoked,
  StoredSeries,
  StoredSession,
} from '../engine';
import { SWEEP_GRACE_MS } from '../keys';
import {
  decodeSeries,
  decodeSession,
  encodeSeries,
  encodeSession,
  decodeOrCount,
  SESSION_FORMAT,
  touchSession,
} from '../record-codec';

interface Entry {
  value: Buffer;
  /** Like a Redis PEXPIREAT: gone after this instant. */
  dropAt: number;
}

class Shard {
  readonly sessions = new Map<string, Entry>();
  readonly live = new Map<string, number>();
  readonly users = new Map<string, string[]>();
  readonly series = new Map<string, Entry>();
  readonly seriesUsers = new Map<string, string[]>();
  /** userId -> credential epoch (ADR 040), like the Redis `cred` HASHes of the shard. */
  readonly credentials = new Map<string, number>();
}

/**
 * In-process engine for development and unit tests, with the Redis engine's semantics: the same
 * packed records, deadlines checked on read, indexes per shard, counts without scanning records.
 * It is per process: it cannot be shared by several nodes (preflight refuses it in production).
 */
export class MemoryEngine implements SessionEngine, ExpirySweeping {
  readonly kind = 'memory' as const;
  /** A process's own store holds nothing older than this build: always the newest format. */
  readonly sessionFormat = SESSION_FORMAT;
  readonly stats: EngineStats = {
    malformed: 0,
    countersBuilt: 0,
    countersRepaired: 0,
    replicaReads: 0,
  };
  private readonly data: Shard[];

  constructor(
    readonly shards: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.data = Array.from({ length: shards }, () => new Shard());
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async ping(): Promise<void> {}

  async create(shard: number, s: StoredSession, maxPerUser: number): Promise<string[] | null> {
    const d = this.shard(shard);
    if (this.stale(d, s.userId, s.credentialVersion)) return null;
    const finished = this.finishRevocation(d, s.userId, s.credentialVersion);
    d.sessions.set(s.id, {
      value: encodeSession(s, this.sessionFormat),
      dropAt: s.expiresAt + SWEEP_GRACE_MS,
    });
    d.live.set(s.id, s.expiresAt);
    const ids = this.liveIds(d, s.userId).filter((id) => id !== s.id);
    ids.push(s.id);
    const over = ids.length - maxPerUser;
    if (over <= 0) {
      d.users.set(s.userId, ids);
      return finished;
    }
    // The new session's siblings (same remember-me series) go first, then the oldest (ADR 216).
    const own = s.seriesId;
    const older = ids.slice(0, -1);
    const siblings = own ? older.filter((id) => this.read(d, id)?.seriesId === own) : [];
    const victims = new Set(siblings.slice(0, over));
    for (const id of older) if (victims.size < over) victims.add(id);
    const evicted = older.filter((id) => victims.has(id));
    for (const id of evicted) {
      // An evicted session is revoked: its remember-me series ends with it (ADR 041), unless it
      // is the new session's own.
      const record = this.read(d, id);
      if (record && record.seriesId !== own) this.endSeriesOf(d, record);
      this.dropSession(d, id);
    }
    d.users.set(
      s.userId,
      ids.filter((id) => !victims.has(id)),
    );
    return [...finished, ...evicted];
  }

  async get(shard: number, id: string, now: number): Promise<StoredSession | null> {
    const s = this.read(this.shard(shard), id);
    return s && s.expiresAt > now ? s : null;
  }

  async touch(
    shard: number,
    id: string,
    lastSeenAt: number,
    expiresAt: number,
    now: number,
  ): Promise<boolean> {
    const d = this.shard(shard);
    const s = this.read(d, id);
    const stored = d.sessions.get(id);
    if (!s || !stored || s.expiresAt <= now) return false;
    // In place at the record's own touch offset, like touch-5.lua: a format 4 record keeps 16
    // bytes of the hash, so it cannot be re-encoded from its decoded form.
    const value = touchSession(stored.value, lastSeenAt, expiresAt);
    d.sessions.set(id, { value, dropAt: expiresAt + SWEEP_GRACE_MS });
    d.live.set(id, expiresAt);
    return true;
  }

  async rotate(shard: number, oldId: string, next: StoredSession, now: number): Promise<boolean> {
    const d = this.shard(shard);
    const old = this.read(d, oldId);
    if (!old || old.expiresAt <= now) return false;
    if (this.stale(d, old.userId, next.credentialVersion)) return false;
    this.dropSession(d, oldId);
    d.sessions.set(next.id, {
      value: encodeSession(next, this.sessionFormat),
      dropAt: next.expiresAt + SWEEP_GRACE_MS,
    });
    d.live.set(next.id, next.expiresAt);
    const ids = (d.users.get(old.userId) ?? []).map((id) => (id === oldId ? next.id : id));
    if (!ids.includes(next.id)) ids.push(next.id);
    d.users.set(old.userId, ids);
    return true;
  }

  async revoke(shard: number, id: string, userId?: string): Promise<boolean> {
    const d = this.shard(shard);
    const s = this.read(d, id);
    if (!s) return false;
    if (userId !== undefined && s.userId !== userId) return false;
    this.dropSession(d, id);
    this.unindex(d.users, s.userId, id);
    this.endSeriesOf(d, s);
    return true;
  }

  async revokeUser(
    shard: number,
    userId: string,
    exceptId?: string,
    epoch?: number,
  ): Promise<string[]> {
    const d = this.shard(shard);
    if (epoch !== undefined && epoch > (d.credentials.get(userId) ?? 0))
      d.credentials.set(userId, epoch);
    const ids = d.users.get(userId) ?? [];
    const ended = ids.filter((id) => id !== exceptId && d.sessions.has(id));
    for (const id of ids) if (id !== exceptId) this.dropSession(d, id);
    if (exceptId !== undefined && ids.includes(exceptId)) d.users.set(userId, [exceptId]);
    else d.users.delete(userId);
    for (const sid of d.seriesUsers.get(userId) ?? []) d.series.delete(sid);
    d.seriesUsers.delete(userId);
    return ended;
  }

  async revokeShard(shard: number): Promise<ShardRevoked> {
    const d = this.shard(shard);
    const now = this.clock();
    const existing = (m: Map<string, Entry>) =>
      [...m.values()].filter((e) => e.dropAt > now).length;
    const ended = { sessions: existing(d.sessions), series: existing(d.series) };
    for (const m of [d.sessions, d.live, d.users, d.series, d.seriesUsers]) m.clear();
    return ended;
  }

  async listUser(shard: number, userId: string, now: number): Promise<StoredSession[]> {
    const d = this.shard(shard);
    const out: StoredSession[] = [];
    for (const id of d.users.get(userId) ?? []) {
      const s = this.read(d, id);
      if (s && s.expiresAt > now) out.push(s);
    }
    return out;
  }

  /** The same sweep a count does here (this engine's counts are always exact; ADR 230). */
  async sweep(now: number): Promise<SweepResult> {
    const { expired } = await this.count(now);
    return { expired, shards: this.data.length, remaining: 0 };
  }

  /** One process owns this store: it always holds the lease. */
  async lease(_owner: string, ttlMs: number): Promise<boolean> {
    return ttlMs > 0;
  }

  async count(now: number): Promise<SessionCounts> {
    let sessions = 0;
    let expired = 0;
    let users = 0;
    for (const d of this.data) {
      for (const [id, at] of d.live) {
        if (at > now) continue;
        const s = this.read(d, id);
        if (s && s.expiresAt > now) continue; // renewed since indexed
        this.dropSession(d, id);
        if (s) this.unindex(d.users, s.userId, id);
        expired++;
      }
      sessions += d.live.size;
      users += d.users.size;
    }
    return { sessions, users, expired };
  }

  async createSeries(shard: number, series: StoredSeries, maxPerUser: number): Promise<boolean> {
    const d = this.shard(shard);
    if (this.stale(d, series.userId, series.credentialVersion)) return false;
    d.series.set(series.id, { value: encodeSeries(series), dropAt: series.expiresAt });
    const ids = (d.seriesUsers.get(series.userId) ?? []).filter(
      (id) => d.series.has(id) && id !== series.id,
    );
    ids.push(series.id);
    for (const id of ids.length > maxPerUser ? ids.splice(0, ids.length - maxPerUser) : [])
      d.series.delete(id);
    d.seriesUsers.set(series.userId, ids);
    return true;
  }

  async useSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    nextHash: Buffer,
    now: number,
    grace: number,
  ): Promise<SeriesUse> {
    const d = this.shard(shard);
    const series = this.readSeries(d, id, now);
    if (!series) return { result: 'missing' };
    const { userId, credentialVersion } = series;
    if (this.stale(d, userId, credentialVersion)) {
      d.series.delete(id);
      this.unindex(d.seriesUsers, userId, id);
      return { result: 'missing' };
    }
    if (series.tokenHash.equals(presentedHash)) {
      const next = {
        ...series,
        previousHash: series.tokenHash,
        tokenHash: nextHash,
        rotatedAt: now,
      };
      d.series.set(id, { value: encodeSeries(next), dropAt: series.expiresAt });
      return { result: 'rotated', userId, credentialVersion };
    }
    if (series.previousHash?.equals(presentedHash) && now - series.rotatedAt <= grace) {
      return { result: 'grace', userId, credentialVersion };
    }
    d.series.delete(id);
    this.unindex(d.seriesUsers, series.userId, id);
    return { result: 'theft', userId: series.userId };
  }

  async revokeSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    now: number,
    grace: number,
  ): Promise<boolean> {
    const d = this.shard(shard);
    const series = this.readSeries(d, id, now);
    if (!series) return false;
    const current = series.tokenHash.equals(presentedHash);
    const previous =
      !!series.previousHash?.equals(presentedHash) && now - series.rotatedAt <= grace;
    if (!current && !previous) return false;
    d.series.delete(id);
    this.unindex(d.seriesUsers, series.userId, id);
    return true;
  }

  /** True when the user's credential epoch is above `version`: nothing may be created with it. */
  private stale(d: Shard, userId: string, version: number): boolean {
    return version < (d.credentials.get(userId) ?? 0);
  }

  /**
   * A version above the user's epoch: a credential change whose revocation never landed (ADR
   * 273). Raises the epoch and ends what older versions made, as create-11.lua does.
   */
  private finishRevocation(d: Shard, userId: string, version: number): string[] {
    if (version <= (d.credentials.get(userId) ?? 0)) return [];
    d.credentials.set(userId, version);
    const now = this.clock();
    const ended = (d.users.get(userId) ?? []).filter(
      (id) => (this.read(d, id)?.credentialVersion ?? version) < version,
    );
    for (const id of ended) this.dropSession(d, id);
    for (const id of d.seriesUsers.get(userId) ?? []) {
      if ((this.readSeries(d, id, now)?.credentialVersion ?? version) >= version) continue;
      d.series.delete(id);
      this.unindex(d.seriesUsers, userId, id);
    }
    return ended;
  }

  /** Ends the remember-me series a (revoked) session belongs to. */
  private endSeriesOf(d: Shard, s: StoredSession | null): void {
    if (!s?.seriesId) return;
    d.series.delete(s.seriesId);
    this.unindex(d.seriesUsers, s.userId, s.seriesId);
  }

  private shard(n: number): Shard {
    const d = this.data[n];
    if (!d) throw new RangeError(`shard ${n} is outside 0..${this.shards - 1}`);
    return d;
  }

  /** Decodes a stored record, dropping it like Redis would once its TTL has passed. */
  private read(d: Shard, id: string): StoredSession | null {
    const e = d.sessions.get(id);
    if (!e) return null;
    if (e.dropAt <= this.clock()) {
      d.sessions.delete(id);
      return null;
    }
    return decodeOrCount(this.stats, () => decodeSession(id, e.value));
  }

  private readSeries(d: Shard, id: string, now: number): StoredSeries | null {
    const e = d.series.get(id);
    if (!e || e.dropAt <= now) return null;
    return decodeOrCount(this.stats, () => decodeSeries(id, e.value));
  }

  private liveIds(d: Shard, userId: string): string[] {
    return (d.users.get(userId) ?? []).filter((id) => d.sessions.has(id));
  }

  private dropSession(d: Shard, id: string): void {
    d.sessions.delete(id);
    d.live.delete(id);
  }

  private unindex(index: Map<string, string[]>, userId: string, id: string): void {
    const rest = (index.get(userId) ?? []).filter((x) => x !== id);
    if (rest.length) index.set(userId, rest);
    else index.delete(userId);
  }
}
