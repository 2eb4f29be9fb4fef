import { Cluster } from 'ioredis';
import type { RedisSettings } from '../../config/settings';
import { StoreUnavailableError } from '../../errors';
import type {
  EngineStats,
  ExpirySweeping,
  SeriesUse,
  SessionCounts,
  SessionFormat,
  ShardRevoked,
  SessionEngine,
  SweepResult,
  StoredSeries,
  StoredSession,
} from '../engine';
import { KeyLayout, shardUnder, SWEEP_GRACE_MS } from '../keys';
import {
  decodeSession,
  encodeSeries,
  encodeSession,
  encodeTouch,
  decodeOrCount,
  SESSION_FORMAT,
} from '../record-codec';
import { batchesReads, commandOn, evalScript, readAlone, withRedirects } from './commands';
import type { ScriptArg } from './commands';
import { masters, RedisConnection } from './connection';
import { readCounters } from './counter-read';
import type { RedisClient } from './connection';
import { writeThenWait } from './durable-write';
import { deadlines } from '../deadline';
import { LAYOUT_FORMAT, recordMeta, sessionFormatOf } from './meta';
import type { StoreMeta } from './meta';
import { loadScripts } from './scripts';
import { parseSplit, RESHARD_POLL_MS } from './split-state';
import type { SplitState } from './split-state';
import type { ScriptName, ScriptSet } from './scripts';
import { LeaseReply, Reply, SeriesReply } from './script-replies';
import { isUnavailable, replyCode, scriptError, storeError } from './store-errors';
import {
  getFromReplicas,
  HEDGE_SHARE,
  readWithFallback,
  replicaReadsEnabled,
  ReplicaSet,
  withTimeout,
} from './replica-reads';

/** A session key holding another type: counted as malformed, read as no session. */
const WRONGTYPE = Symbol('WRONGTYPE');

/** Expired index entries one sweep script removes per shard: bounds the time it runs. */
export const SWEEP_LIMIT = 500;
/** Sweep scripts one sweep runs on a shard whose budget ran out: bounds one sweep's work. */
export const SWEEP_PASSES = 4;
const HASH_BYTES = 32;
/** How long a write waits for a user's move to end (ADR 260) before it is a 503. */
export const MOVE_WAIT_MS = 1_000;
const MOVE_STEP_MS = 5;

export interface RedisEngineOptions {
  /** Prefix of the client names (CLIENT LIST), e.g. the process role. */
  readonly name?: string;
  /**
   * How long (ms) a count may leave expired entries to the sweeper (store.sweep.maxLag, ADR 230);
   * a shard lagging more is swept by the count itself. 0 (the default here): every count is exact.
   */
  readonly countMaxLagMs?: number;
}

/**
 * The session engine on Redis (cluster, sentinel or standalone) with MemoryEngine's semantics.
 * A read is one GET decoded here; every change is one Lua script on one shard's slot (atomic);
 * deadlines are checked on every read, not left to TTLs. When the store does not answer, methods
 * throw StoreUnavailableError: a session is never reported missing because Redis was down.
 */
export class RedisEngine implements SessionEngine, ExpirySweeping {
  readonly kind = 'redis' as const;
  readonly stats: EngineStats = {
    malformed: 0,
    countersBuilt: 0,
    countersRepaired: 0,
    replicaReads: 0,
  };
  readonly shards: number;
  readonly keys: KeyLayout;
  private readonly scripts: ScriptSet;
  private readonly name: string;
  private readonly countMaxLagMs: number;
  private conn: RedisConnection | undefined;
  /** Replica reads (ADR 205): a Redis Cluster whose writes wait for a replica; else undefined. */
  private replicas: ReplicaSet | undefined;
  /** The shard the next sweep rebuilds from its indexes (round robin from a random start). */
  private nextRepair: number;
  private starting: Promise<void> | undefined;
  /** The shard count's growth this deployment is in or went through (ADR 260); null: none. */
  private split: SplitState | null = null;
  /** Read from meta at start and by the poll (ADR 265). */
  sessionFormat: SessionFormat = SESSION_FORMAT;
  private splitPoll: NodeJS.Timeout | undefined;

  constructor(
    readonly settings: RedisSettings,
    options: RedisEngineOptions = {},
  ) {
    this.shards = settings.shards;
    this.keys = new KeyLayout(settings.keyPrefix, settings.shards);
    this.scripts = loadScripts();
    this.name = options.name ?? 'holdfast';
    this.countMaxLagMs = options.countMaxLagMs ?? 0;
    // A random start: a new lease holder does not repeat the previous one's shards.
    this.nextRepair = Math.floor(Math.random() * this.shards);
  }

  /** The clients, for modules that share them (users store, throttling, health). After start(). */
  get connection(): RedisConnection {
    // Before start() or after stop() (shutdown): the store is unavailable to callers, a 503.
    if (!this.conn)
      throw new StoreUnavailableError('use of the store', 'the engine is not started');
    return this.conn;
  }

  /** Connects and loads the scripts; concurrent calls share one attempt. */
  start(): Promise<void> {
    this.starting ??= this.open().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async open(): Promise<void> {
    if (this.conn) return;
    const conn = await RedisConnection.open(this.settings, this.name);
    try {
      // Loaded up front so the first requests (and the first count's burst of one script per
      // shard) do not each fall back from EVALSHA to EVAL. Later masters load them on NOSCRIPT.
      await Promise.all(
        masters(conn.writes).flatMap((node) =>
          Object.values(this.scripts).map((script) => node.script('LOAD', script.lua)),
        ),
      );
    } catch (err) {
      await conn.close();
      throw storeError('start (loading scripts)', err);
    }
    if (conn.reads instanceof Cluster && replicaReadsEnabled(this.settings)) {
      this.replicas = new ReplicaSet(conn.reads, this.name);
      // A map that cannot be read now is read again on the first fallback.
      await this.replicas.refresh().catch(() => {});
    }
    this.conn = conn;
    await this.refreshMeta().catch(() => {});
    // Every node learns a split (ADR 260) and an upgraded format (ADR 265) within one period; the
    // reshard command waits several.
    this.splitPoll = setInterval(() => void this.refreshMeta().catch(() => {}), RESHARD_POLL_MS);
    this.splitPoll.unref();
  }

  /**
   * Reads the split state (ADR 260) and the session format to write (ADR 265) from meta: at start,
   * every RESHARD_POLL_MS, and on a MOVED reply. A store with no format recorded yet gets the
   * newest (a first start records it); one this code does not read keeps the last known (preflight
   * refuses such a store before any worker starts).
   */
  async refreshMeta(): Promise<SplitState | null> {
    const conn = this.conn;
    if (!conn) return this.split;
    const [shards, reshard, grownFrom, format] = await conn.writes.hmget(
      this.keys.meta(),
      'shards',
      'reshard',
      'grownFrom',
      'format',
    );
    this.sessionFormat = sessionFormatOf(format ?? LAYOUT_FORMAT) ?? this.sessionFormat;
    this.split = parseSplit(shards, reshard, grownFrom, this.shards);
    // Cookies made before a split name shards under the old count (KeyLayout.owns).
    if (this.split && this.split.from < this.shards) this.keys.grownFrom = this.split.from;
    if (this.split && this.split.to > this.shards) this.keys.grownTo = this.split.to;
    return this.split;
  }

  /** The split this engine knows of (ADR 260). */
  get splitState(): SplitState | null {
    return this.split;
  }

  async stop(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    clearInterval(this.splitPoll);
    this.splitPoll = undefined;
    this.replicas?.close();
    this.replicas = undefined;
    await conn?.close();
  }

  /** Readiness: the store answers when any master does (ADR 240); the others fail per request. */
  async ping(): Promise<void> {
    try {
      const nodes = masters(this.connection.reads);
      if (nodes.length === 0) throw new Error('no master is connected');
      // Ready while any master answers (ADR 240): one dead or frozen master is the same fault for
      // every node, and taking them all out of rotation turns a partial outage into a total one.
      await Promise.any(nodes.map((node) => node.ping()));
    } catch (err) {
      throw storeError('ping', err instanceof AggregateError ? err.errors[0] : err);
    }
  }

  /** The recorded layout (written on first call); preflight compares it with the settings. */
  async meta(): Promise<StoreMeta> {
    try {
      return await recordMeta(this.connection.writes, this.keys);
    } catch (err) {
      throw storeError('meta', err);
    }
  }

  async create(shard: number, s: StoredSession, maxPerUser: number): Promise<string[] | null> {
    const reply = await this.forUser('create', shard, s.userId, (at) =>
      this.createAt(at, s, maxPerUser),
    );
    return reply === Reply.STALE_CREDENTIALS ? null : strings(reply);
  }

  private createAt(shard: number, s: StoredSession, maxPerUser: number): Promise<unknown> {
    const k = this.shardKeys(shard);
    const record = encodeSession(s, this.sessionFormat);
    return this.write(
      'create',
      'create',
      [
        k.session(shard, s.id),
        k.live(shard, s.id),
        k.users(shard, s.userId),
        k.sessionPrefix(shard),
        k.livePrefix(shard),
        k.credentials(shard, s.userId),
        k.seriesPrefix(shard),
        k.seriesUsers(shard, s.userId),
        k.counter(shard),
        k.due(shard),
        k.reshard(shard),
      ],
      [
        record,
        s.id,
        s.userId,
        s.expiresAt,
        SWEEP_GRACE_MS,
        maxPerUser,
        k.liveBuckets,
        s.credentialVersion,
      ],
      (r) => Array.isArray(r),
    );
  }

  /**
   * One GET, answered within commandTimeout: from the master, or (replica reads, ADR 205) from
   * its replicas when the master fails or is slow.
   */
  async get(shard: number, id: string, now: number): Promise<StoredSession | null> {
    const key = this.shardKeys(shard).session(shard, id);
    const { reads } = this.connection;
    const timeout = this.readTimeout('get');
    const primary = this.readMaster(reads, key);
    let buf: Buffer | null | typeof WRONGTYPE;
    try {
      const replicas = this.replicas;
      if (replicas) {
        const read = await readWithFallback<Buffer | null | typeof WRONGTYPE>({
          primary,
          replica: (ms) => getFromReplicas(replicas, key, this.settings.durability.replicas, ms),
          empty: (value) => value === null,
          covers: isUnavailable,
          hedgeAfter: timeout * HEDGE_SHARE,
          timeout,
        });
        if (read.from === 'replica') this.stats.replicaReads++;
        buf = read.value;
      } else {
        buf = await withTimeout(primary, timeout);
      }
    } catch (err) {
      // Whichever lost the race settles later: nothing may be left unhandled.
      primary.catch(() => {});
      throw storeError('get', err, { client: reads, key });
    }
    if (buf === WRONGTYPE) return this.malformed();
    // A cookie older than a split names the user's old shard (ADR 260).
    if (!buf) buf = await this.readElsewhere('get', shard, (at) => this.keys.session(at, id));
    if (buf === WRONGTYPE) return this.malformed();
    if (!buf) return null;
    const found = buf;
    const s = decodeOrCount(this.stats, () => decodeSession(id, found));
    return s && s.expiresAt > now ? s : null;
  }

  /**
   * A user record's read, answered within commandTimeout: the master's (`primary`, already sent)
   * or, with replica reads, its replicas' HGETALL when the master fails or is slow (ADR 241). Safe
   * for the same reason as session reads: with durability every user change WAITs (ADR 215).
   */
  async readRecord(
    key: string,
    operation: string,
    primary: Promise<Record<string, string>>,
  ): Promise<Record<string, string>> {
    primary.catch(() => {}); // handled: awaited below, unless the deadline has passed already
    const timeout = this.readTimeout(operation);
    const replicas = this.replicas;
    try {
      if (!replicas) return await withTimeout(primary, timeout);
      const read = await readWithFallback({
        primary,
        replica: (ms) =>
          getFromReplicas<Record<string, string>>(
            replicas,
            key,
            this.settings.durability.replicas,
            ms,
            'hgetall',
          ),
        empty: (value) => Object.keys(value).length === 0,
        covers: isUnavailable,
        hedgeAfter: timeout * HEDGE_SHARE,
        timeout,
      });
      if (read.from === 'replica') this.stats.replicaReads++;
      return read.value;
    } catch (err) {
      primary.catch(() => {});
      throw storeError(operation, err, { client: this.connection.reads, key });
    }
  }

  /** A read's bound: commandTimeout, or what is left of the request's deadline (ADR 245). */
  private readTimeout(operation: string): number {
    try {
      deadlines.check();
    } catch (err) {
      throw storeError(operation, err);
    }
    return Math.min(this.settings.commandTimeout, deadlines.remaining());
  }

  /** The master's GET of a session key (see get); WRONGTYPE for a key of another type. */
  private async readMaster(
    reads: RedisClient,
    key: string,
  ): Promise<Buffer | null | typeof WRONGTYPE> {
    let buf: Buffer | null | undefined;
    try {
      buf = await reads.getBuffer(key);
    } catch (err) {
      if (replyCode(err) === 'WRONGTYPE') return WRONGTYPE;
    }
    // Before a session is reported missing (a logout), a Cluster read is repeated alone: while a
    // slot migrates, an auto-pipelined GET can read nil for a key that exists (readAlone, ADR
    // 130). A failed read (a slot being migrated) is retried the same way, following redirects.
    if (buf === undefined || (buf === null && batchesReads(reads))) {
      try {
        buf = (await readAlone(reads, 'get', [key], true)) as Buffer | null;
      } catch (again) {
        if (replyCode(again) === 'WRONGTYPE') return WRONGTYPE;
        throw again;
      }
    }
    return buf;
  }

  async touch(
    shard: number,
    id: string,
    lastSeenAt: number,
    expiresAt: number,
    now: number,
  ): Promise<boolean> {
    const code = await this.forRecord('touch', shard, id, 'session', (at) => {
      const k = this.shardKeys(at);
      // A lost renewal only shortens a session: no WAIT.
      return this.run(
        'touch',
        'touch',
        this.connection.writes,
        [k.session(at, id), k.live(at, id), k.counter(at), k.due(at), k.reshard(at)],
        [encodeTouch(lastSeenAt, expiresAt), expiresAt, SWEEP_GRACE_MS, now, id, k.liveBuckets],
      );
    });
    return this.applied(code);
  }

  async rotate(shard: number, oldId: string, next: StoredSession, now: number): Promise<boolean> {
    const record = encodeSession(next, this.sessionFormat);
    const code = await this.forRecord('rotate', shard, oldId, 'session', (at) =>
      this.rotateAt(at, oldId, next, record, now),
    );
    return this.applied(code);
  }

  private rotateAt(
    shard: number,
    oldId: string,
    next: StoredSession,
    record: Buffer,
    now: number,
  ): Promise<unknown> {
    const k = this.shardKeys(shard);
    return this.write(
      'rotate',
      'rotate',
      [
        k.session(shard, oldId),
        k.session(shard, next.id),
        k.live(shard, oldId),
        k.live(shard, next.id),
        k.usersPrefix(shard),
        k.credentialsPrefix(shard),
        k.counter(shard),
        k.due(shard),
        k.reshard(shard),
      ],
      [
        oldId,
        next.id,
        record,
        next.expiresAt,
        SWEEP_GRACE_MS,
        now,
        k.userBuckets,
        next.credentialVersion,
        k.liveBuckets,
      ],
      (reply) => reply === Reply.APPLIED,
    );
  }

  async revoke(shard: number, id: string, userId?: string): Promise<boolean> {
    const code = await this.forRecord('revoke', shard, id, 'session', (at) =>
      this.revokeAt(at, id, userId),
    );
    return this.applied(code);
  }

  private revokeAt(shard: number, id: string, userId: string | undefined): Promise<unknown> {
    const k = this.shardKeys(shard);
    return this.write(
      'revoke',
      'revoke',
      [
        k.session(shard, id),
        k.live(shard, id),
        k.usersPrefix(shard),
        k.seriesPrefix(shard),
        k.seriesUsersPrefix(shard),
        k.counter(shard),
        k.due(shard),
        k.reshard(shard),
      ],
      [id, userId === undefined ? '0' : '1', userId ?? '', k.userBuckets],
      (reply) => reply === Reply.APPLIED,
    );
  }

  async revokeUser(
    shard: number,
    userId: string,
    exceptId?: string,
    epoch?: number,
  ): Promise<string[]> {
    const ended: string[] = [];
    // While the user's move is pending, their data is on both shards: old first (ADR 260).
    for (const at of this.userPlaces(shard, userId)) {
      const reply = await this.untilSettled('revokeUser', () =>
        this.revokeUserAt(at, userId, exceptId, epoch),
      );
      if (reply !== Reply.MOVED) ended.push(...strings(reply));
    }
    return ended;
  }

  private revokeUserAt(
    shard: number,
    userId: string,
    exceptId: string | undefined,
    epoch: number | undefined,
  ): Promise<unknown> {
    const k = this.shardKeys(shard);
    return this.write(
      'revokeUser',
      'revoke-user',
      userPlace(k, shard, userId),
      [userId, exceptId ?? '', k.liveBuckets, epoch ?? ''],
      // Series may have been deleted even when no session was: always wait.
      () => true,
    );
  }

  async revokeShard(shard: number): Promise<ShardRevoked> {
    let sessions = 0;
    let series = 0;
    // Old shard first (it waits for a user's move to end), then the shards it splits into.
    for (const at of [shard, ...this.otherPlaces(shard)]) {
      const reply = await this.untilSettled('revokeShard', () => this.revokeShardAt(at));
      const [s, r] = Array.isArray(reply) ? (reply as number[]) : [0, 0];
      sessions += Number(s);
      series += Number(r);
    }
    return { sessions, series };
  }

  private revokeShardAt(shard: number): Promise<unknown> {
    const k = this.shardKeys(shard);
    return this.write(
      'revokeShard',
      'revoke-shard',
      [
        k.livePrefix(shard),
        k.usersPrefix(shard),
        k.sessionPrefix(shard),
        k.seriesUsersPrefix(shard),
        k.seriesPrefix(shard),
        k.counter(shard),
        k.due(shard),
        k.reshard(shard),
      ],
      [k.liveBuckets, k.userBuckets],
      () => true,
    );
  }

  async listUser(shard: number, userId: string, now: number): Promise<StoredSession[]> {
    const places = this.userPlaces(shard, userId);
    const out: StoredSession[] = [];
    for (const at of places) {
      const k = this.shardKeys(at);
      const reply = await this.run(
        'listUser',
        'list-user',
        this.connection.reads,
        [k.users(at, userId), k.sessionPrefix(at), k.reshard(at)],
        [userId],
        true,
      );
      // MOVED (a number): the user's data is on the next place only.
      const flat = Array.isArray(reply) ? (reply as Buffer[]) : [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const s = decodeOrCount(this.stats, () => decodeSession(flat[i].toString(), flat[i + 1]));
        if (s && s.expiresAt > now) out.push(s);
      }
    }
    // Two places while the user's move is pending: keep the oldest-first order.
    if (places.length > 1) out.sort((a, b) => a.createdAt - b.createdAt);
    return out;
  }

  /**
   * Live sessions and users from the shards' counters (ADR 180, 230): one GET per shard,
   * auto-pipelined into one socket write per master (an MGET across shards would be CROSSSLOT in a
   * cluster), and nothing else while the sweeper keeps up. A shard whose counter says an entry may
   * be due counts as it stands (its expired entries included) as long as its due bound is less
   * than `countMaxLagMs` old, and `lagMs` says by how much the answer may lag; past that (no
   * sweeper running), or with no counter yet, the shard runs the sweep script, which answers
   * exactly. With `countMaxLagMs` 0 every count is exact at `now`.
   */
  async count(now: number): Promise<SessionCounts> {
    const { reads } = this.connection;
    let values: Array<string | null>;
    try {
      values = await this.counters(reads);
    } catch (err) {
      throw storeError('count', err);
    }
    let sessions = 0;
    let users = 0;
    let lagMs = -1;
    const exact: Array<Promise<ShardSwept>> = [];
    for (const [shard, value] of values.entries()) {
      const c = parseCounter(value);
      if (c && (c.due > now || now - c.due < this.countMaxLagMs)) {
        sessions += c.entries;
        users += c.users;
        if (c.due <= now) lagMs = Math.max(lagMs, now - c.due);
      } else {
        exact.push(this.sweepShard(shard, now, false));
      }
    }
    let expired = 0;
    for (const swept of await Promise.all(exact)) {
      sessions += swept.live;
      users += swept.users;
      expired += swept.swept;
    }
    return lagMs >= 0 ? { sessions, users, expired, lagMs } : { sessions, users, expired };
  }

  /** Every shard's counter: one command per master (ADR 250), one GET per shard as the fallback. */
  private counters(reads: RedisClient): Promise<Array<string | null>> {
    const keys = Array.from({ length: this.physicalShards }, (_, shard) =>
      this.keys.counter(shard),
    );
    return readCounters(reads, keys, (key) => counterOf(reads, key));
  }

  /**
   * One sweep of the deployment (ADR 230), by the lease holder: reads every shard's counter and
   * runs the sweep script on each shard that may hold something due (and builds any missing
   * counter); a shard whose budget ran out runs again, up to SWEEP_PASSES times. One more shard per
   * sweep is checked against its indexes (round robin) and rebuilt when it differs, so a counter
   * that drifted (a write by an earlier version during a rolling upgrade) is repaired, and counted
   * in stats.countersRepaired.
   */
  async sweep(now: number): Promise<SweepResult> {
    const { reads } = this.connection;
    const repair = this.nextRepair;
    this.nextRepair = (repair + 1) % this.physicalShards;
    let values: Array<string | null>;
    try {
      values = await this.counters(reads);
    } catch (err) {
      throw storeError('sweep', err);
    }
    let due = values.flatMap((value, shard) => {
      const c = parseCounter(value);
      return shard === repair || !c || c.due <= now ? [shard] : [];
    });
    let expired = 0;
    let shards = 0;
    let remaining = 0;
    for (let pass = 0; pass < SWEEP_PASSES && due.length > 0; pass++) {
      const replies = await Promise.all(
        due.map((shard) => this.sweepShard(shard, now, pass === 0 && shard === repair)),
      );
      shards += pass === 0 ? due.length : 0;
      remaining = 0;
      const again: number[] = [];
      for (const [i, r] of replies.entries()) {
        expired += r.swept;
        remaining += r.remaining;
        if (r.remaining > 0) again.push(due[i]);
      }
      due = again;
    }
    return { expired, shards, remaining };
  }

  /** The sweep lease (lease-1.lua) on the writes client; no WAIT: a lost lease only means a double sweep. */
  lease(owner: string, ttlMs: number): Promise<boolean> {
    return this.leaseOn(this.keys.sweepLease(), owner, ttlMs);
  }

  /** The lease of `holdfast store reshard` (ADR 260): two moving the same user could revive data. */
  reshardLease(owner: string, ttlMs: number): Promise<boolean> {
    return this.leaseOn(this.keys.reshardLease(), owner, ttlMs);
  }

  private async leaseOn(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const reply = await this.run(
      'lease',
      'lease',
      this.connection.writes,
      [key],
      [owner, Math.max(0, Math.round(ttlMs))],
    );
    return Number(reply) === LeaseReply.HELD;
  }

  /** The sweep script on one shard: sweeps what is due, builds or (with `repair`) checks its counter. */
  private async sweepShard(shard: number, now: number, repair: boolean): Promise<ShardSwept> {
    const k = this.keys;
    // The sweep's deletions need no WAIT (a lost one is redone by the next sweep), so this runs
    // on the reads client and never queues behind a WAIT.
    const reply = await this.run(
      'sweep',
      'sweep',
      this.connection.reads,
      [
        k.livePrefix(shard),
        k.usersPrefix(shard),
        k.sessionPrefix(shard),
        k.counter(shard),
        k.due(shard),
      ],
      [now, SWEEP_LIMIT, k.liveBuckets, k.userBuckets, repair ? '1' : '0'],
    );
    const [live, users, swept, malformed, rebuilt, remaining] = (reply as number[]).map(Number);
    this.stats.malformed += malformed;
    if (rebuilt === CounterRebuilt.BUILT) this.stats.countersBuilt++;
    if (rebuilt === CounterRebuilt.REPAIRED) this.stats.countersRepaired++;
    return { live, users, swept, remaining };
  }

  async createSeries(shard: number, series: StoredSeries, maxPerUser: number): Promise<boolean> {
    const record = encodeSeries(series);
    const reply = await this.forUser('createSeries', shard, series.userId, (at) =>
      this.createSeriesAt(at, series, record, maxPerUser),
    );
    return reply === Reply.APPLIED;
  }

  private createSeriesAt(
    shard: number,
    series: StoredSeries,
    record: Buffer,
    maxPerUser: number,
  ): Promise<unknown> {
    const k = this.shardKeys(shard);
    return this.write(
      'createSeries',
      'create-series',
      [
        k.series(shard, series.id),
        k.seriesUsers(shard, series.userId),
        k.seriesPrefix(shard),
        k.credentials(shard, series.userId),
        k.reshard(shard),
      ],
      [record, series.id, series.userId, series.expiresAt, series.credentialVersion, maxPerUser],
      (r) => r === Reply.APPLIED,
    );
  }

  async useSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    nextHash: Buffer,
    now: number,
    grace: number,
  ): Promise<SeriesUse> {
    if (presentedHash.length !== HASH_BYTES || nextHash.length !== HASH_BYTES) {
      throw new TypeError(`a token hash is ${HASH_BYTES} bytes`);
    }
    // What a rotation writes at codec offset 1: next hash, the presented one as previous, flag, time.
    const rotation = Buffer.alloc(2 * HASH_BYTES + 7);
    nextHash.copy(rotation, 0);
    presentedHash.copy(rotation, HASH_BYTES);
    rotation[2 * HASH_BYTES] = 1;
    rotation.writeUIntBE(now, 2 * HASH_BYTES + 1, 6);
    const reply = await this.forRecord(
      'useSeries',
      shard,
      id,
      'series',
      (at) => {
        const k = this.shardKeys(at);
        return this.write(
          'useSeries',
          'use-series',
          [k.series(at, id), k.seriesUsersPrefix(at), k.credentialsPrefix(at), k.reshard(at)],
          [id, presentedHash, rotation, now, grace, k.userBuckets],
          (r) => Array.isArray(r) && (r[0] === SeriesReply.ROTATED || r[0] === SeriesReply.THEFT),
        );
      },
      (r) => (Array.isArray(r) ? r[0] : r),
    );
    const [code, userId, credentialVersion] = Array.isArray(reply) ? reply : [];
    switch (code) {
      case SeriesReply.ROTATED:
        return {
          result: 'rotated',
          userId: String(userId),
          credentialVersion: Number(credentialVersion),
        };
      case SeriesReply.GRACE:
        return {
          result: 'grace',
          userId: String(userId),
          credentialVersion: Number(credentialVersion),
        };
      case SeriesReply.THEFT:
        return { result: 'theft', userId: String(userId) };
      case SeriesReply.MALFORMED:
        this.stats.malformed++;
        return { result: 'missing' };
      default:
        return { result: 'missing' };
    }
  }

  async revokeSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    now: number,
    grace: number,
  ): Promise<boolean> {
    if (presentedHash.length !== HASH_BYTES)
      throw new TypeError(`a token hash is ${HASH_BYTES} bytes`);
    const code = await this.forRecord('revokeSeries', shard, id, 'series', (at) => {
      const k = this.shardKeys(at);
      return this.write(
        'revokeSeries',
        'revoke-series',
        [k.series(at, id), k.seriesUsersPrefix(at), k.reshard(at)],
        [id, now, k.userBuckets, presentedHash, grace],
        (reply) => reply === Reply.APPLIED,
      );
    });
    return this.applied(code);
  }

  /**
   * The users with data on old shard `shard` (session, series or credential index entries) and
   * those frozen there by an unfinished move (ADR 260): what a split must move.
   */
  async usersOf(shard: number): Promise<string[]> {
    const k = this.shardKeys(shard);
    const { writes } = this.connection;
    const indexes = [...k.usersKeys(shard)];
    for (let b = 0; b < k.userBuckets; b++) {
      indexes.push(`${k.seriesUsersPrefix(shard)}${b}`, `${k.credentialsPrefix(shard)}${b}`);
    }
    try {
      const [fields, state] = await Promise.all([
        Promise.all(indexes.map((key) => writes.hkeys(key))),
        writes.hgetall(k.reshard(shard)),
      ]);
      const users = new Set(fields.flat());
      for (const [uid, mark] of Object.entries(state)) if (mark === 'm') users.add(uid);
      return [...users];
    } catch (err) {
      throw storeError('usersOf', err);
    }
  }

  /**
   * Moves one user's data from old shard `from` to `to` (ADR 260): freeze there (writes for the
   * user wait), import here, release there. False when the user had moved already. Safe to run
   * again after a crash at any step. `afterFreeze` runs between the freeze and the copy (tests:
   * requests racing a move, a crash mid-move).
   */
  async moveUser(
    from: number,
    to: number,
    userId: string,
    now: number,
    afterFreeze?: () => Promise<void>,
  ): Promise<boolean> {
    const k = this.keys;
    this.shardKeys(from);
    this.shardKeys(to);
    const frozen = await this.run(
      'moveUser',
      'reshard-freeze',
      this.connection.writes,
      [
        k.users(from, userId),
        k.sessionPrefix(from),
        k.seriesUsers(from, userId),
        k.seriesPrefix(from),
        k.credentials(from, userId),
        k.reshard(from),
      ],
      [userId],
      true,
    );
    if (frozen === Reply.MOVED) return false;
    await afterFreeze?.();
    const [sessions, series, epoch] = frozen as [
      Array<Buffer | number>,
      Array<Buffer | number>,
      Buffer,
    ];
    await this.write(
      'moveUser',
      'reshard-import',
      // The new place holds no split state of its own: every key of the user's place but that.
      userPlace(k, to, userId).slice(0, 8),
      [userId, k.liveBuckets, epoch.toString(), sessions.length / 3, now, ...sessions, ...series],
      () => true,
    );
    await this.write(
      'moveUser',
      'reshard-release',
      userPlace(k, from, userId),
      [userId, k.liveBuckets],
      () => true,
    );
    return true;
  }

  /**
   * A change, on the writes client. With durability.replicas > 0, WAIT follows on the same
   * connection; fewer acknowledgements than asked leave the change applied and recorded as
   * pending (writeThenWait, ADR 215), never an error: the write did happen on the master.
   */
  private async write(
    operation: string,
    name: ScriptName,
    keys: string[],
    args: ScriptArg[],
    wrote: (reply: unknown) => boolean,
  ): Promise<unknown> {
    const { durability } = this.settings;
    if (durability.replicas <= 0)
      return this.run(operation, name, this.connection.writes, keys, args);
    const client = this.connection.writes;
    try {
      return await writeThenWait(
        client,
        operation,
        this.scripts[name],
        keys,
        args,
        durability,
        wrote,
      );
    } catch (err) {
      throw scriptError(operation, name, err, { client, key: keys[0] });
    }
  }

  private async run(
    operation: string,
    name: ScriptName,
    client: RedisClient,
    keys: string[],
    args: ScriptArg[],
    buffers = false,
  ): Promise<unknown> {
    try {
      return await evalScript(client, this.scripts[name], keys, args, buffers);
    } catch (err) {
      throw scriptError(operation, name, err, { client, key: keys[0] });
    }
  }

  /** Whether a change script applied (Reply); a malformed record is counted. */
  private applied(code: unknown): boolean {
    if (code === Reply.MALFORMED) this.stats.malformed++;
    return code === Reply.APPLIED;
  }

  private malformed(): null {
    this.stats.malformed++;
    return null;
  }

  private shardKeys(shard: number): KeyLayout {
    const limit = this.physicalShards;
    if (!Number.isInteger(shard) || shard < 0 || shard >= limit) {
      throw new RangeError(`shard ${shard} is outside 0..${limit - 1}`);
    }
    return this.keys;
  }

  /** The shards that hold data: the grown count as soon as a split is known (ADR 260). */
  get physicalShards(): number {
    return this.split ? Math.max(this.split.to, this.shards) : this.shards;
  }

  /**
   * The other shards old shard `shard` splits into (s+S, …, s+(k−1)S; ADR 260): where a session
   * or series named by a cookie older than the split may be now. Empty when there was no split.
   */
  private otherPlaces(shard: number): number[] {
    const split = this.split;
    if (!split || shard >= split.from) return [];
    return Array.from(
      { length: split.to / split.from - 1 },
      (_, j) => shard + (j + 1) * split.from,
    );
  }

  /**
   * Where a user's data is, given the shard the caller computed: the user's shard under the grown
   * count after a split; during one, the old shard and then the new one for a user who moves (the
   * move may be pending); else `shard`.
   */
  private userPlaces(shard: number, userId: string): number[] {
    const split = this.split;
    if (!split || shard >= split.from) return [shard];
    const target = shardUnder(userId, split.to);
    if (target === shard) return [shard];
    return split.done ? [target] : [shard, target];
  }

  /**
   * A write for one user: where new data of the user goes (their shard under the grown count once
   * a split is known, ADR 260). MOVING waits; MOVED (this engine did not know of the split yet)
   * reads the split state and goes to the user's new shard.
   */
  private async forUser(
    operation: string,
    shard: number,
    userId: string,
    at: (shard: number) => Promise<unknown>,
  ): Promise<unknown> {
    const places = this.userPlaces(shard, userId);
    const first = places[places.length - 1];
    const reply = await this.untilSettled(operation, () => at(first));
    if (reply !== Reply.MOVED) return reply;
    await this.refreshMeta();
    const next = this.userPlaces(shard, userId);
    const target = next[next.length - 1];
    if (target === first) {
      throw new StoreUnavailableError(operation, 'the user moved to a shard this node cannot name');
    }
    return this.untilSettled(operation, () => at(target));
  }

  /**
   * A change of one record (session or series) named by a cookie: on the cookie's shard, and when
   * it is not there and the shard split (ADR 260), on the shard that holds it now. MOVING waits.
   */
  private async forRecord(
    operation: string,
    shard: number,
    id: string,
    kind: 'session' | 'series',
    at: (shard: number) => Promise<unknown>,
    code: (reply: unknown) => unknown = (reply) => reply,
  ): Promise<unknown> {
    const reply = await this.untilSettled(operation, () => at(shard), code);
    const status = code(reply);
    if (status !== Reply.NOT_APPLIED && status !== Reply.MOVED) return reply;
    const others = this.otherPlaces(shard);
    if (others.length === 0) return reply;
    const key = (s: number) =>
      kind === 'session' ? this.keys.session(s, id) : this.keys.series(s, id);
    const found = await this.locate(operation, others, key);
    return found === null ? reply : this.untilSettled(operation, () => at(found), code);
  }

  /** Sends `run` again while its reply says a user's move is under way (ADR 260), up to MOVE_WAIT_MS. */
  private async untilSettled(
    operation: string,
    run: () => Promise<unknown>,
    code: (reply: unknown) => unknown = (reply) => reply,
  ): Promise<unknown> {
    const deadline = Date.now() + MOVE_WAIT_MS;
    for (;;) {
      const reply = await run();
      if (code(reply) !== Reply.MOVING) return reply;
      if (Date.now() >= deadline) {
        throw new StoreUnavailableError(operation, `a user's move to another shard did not end`);
      }
      await new Promise((resolve) => setTimeout(resolve, MOVE_STEP_MS));
    }
  }

  /** The first of `shards` where key(shard) exists, or null. */
  private async locate(
    operation: string,
    shards: number[],
    key: (shard: number) => string,
  ): Promise<number | null> {
    const { reads } = this.connection;
    try {
      const found = await Promise.all(shards.map((s) => this.readMaster(reads, key(s))));
      const i = found.findIndex((value) => value !== null);
      return i < 0 ? null : shards[i];
    } catch (err) {
      throw storeError(operation, err, { client: reads, key: key(shards[0]) });
    }
  }

  /** A session record read from the other shards its cookie's shard split into (ADR 260). */
  private async readElsewhere(
    operation: string,
    shard: number,
    key: (shard: number) => string,
  ): Promise<Buffer | null | typeof WRONGTYPE> {
    const others = this.otherPlaces(shard);
    if (others.length === 0) return null;
    const { reads } = this.connection;
    try {
      const found = await Promise.all(others.map((s) => this.readMaster(reads, key(s))));
      return found.find((value) => value !== null) ?? null;
    } catch (err) {
      throw storeError(operation, err, { client: reads, key: key(others[0]) });
    }
  }
}

/** What the sweep script answered for one shard. */
interface ShardSwept {
  readonly live: number;
  readonly users: number;
  readonly swept: number;
  readonly remaining: number;
}

/** What the sweep script says of the shard's counter (its 5th reply). */
const enum CounterRebuilt {
  BUILT = 1,
  REPAIRED = 2,
}

export interface ShardCounter {
  /** Live-index entries (sum of ZCARD), expired or not. */
  readonly entries: number;
  /** Users with an index entry (sum of HLEN). */
  readonly users: number;
  /** At most the shard's earliest deadline: until then, `entries` are all alive. */
  readonly due: number;
}

/** A `{p:n}:count` value; null when absent or malformed (the count script then rebuilds it). */
export function parseCounter(value: string | null): ShardCounter | null {
  const m = value === null ? null : /^(\d+) (\d+) (\d+)$/.exec(value);
  if (!m) return null;
  return { entries: Number(m[1]), users: Number(m[2]), due: Number(m[3]) };
}

function strings(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.map(String) : [];
}

/**
 * A shard's counter, auto-pipelined with the others (one socket write per master), its
 * redirects followed. A nil from ioredis's resent batch after an ASK (see readAlone) only sends
 * that shard down the exact path, which reads its indexes in a script of its own.
 */
function counterOf(reads: RedisClient, key: string): Promise<string | null> {
  return withRedirects(reads, async (hop) =>
    hop ? ((await commandOn(hop, 'get', [key])) as string | null) : reads.get(key),
  );
}

/**
 * Every key of a user on one shard, in the order revoke-user and reshard-release take them: what
 * ending all of a user's sessions and moving the user away both touch. reshard-import takes all
 * but the last (the split state).
 */
function userPlace(k: KeyLayout, shard: number, userId: string): string[] {
  return [
    k.users(shard, userId),
    k.livePrefix(shard),
    k.sessionPrefix(shard),
    k.seriesUsers(shard, userId),
    k.seriesPrefix(shard),
    k.credentials(shard, userId),
    k.counter(shard),
    k.due(shard),
    k.reshard(shard),
  ];
}
