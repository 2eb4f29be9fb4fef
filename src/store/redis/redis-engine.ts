import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import type { RedisSettings } from '../../config/settings';
import { StoreUnavailableError } from '../../errors';
import type {
  EngineStats,
  ExpirySweeping,
  SeriesUse,
  SessionCounts,
  ShardRevoked,
  SessionEngine,
  SweepResult,
  StoredSeries,
  StoredSession,
} from '../engine';
import { KeyLayout, SWEEP_GRACE_MS } from '../keys';
import {
  decodeSession,
  encodeSeries,
  encodeSession,
  encodeTouch,
  decodeOrCount,
} from '../record-codec';
import { batchesReads, commandOn, evalScript, readAlone, withRedirects } from './commands';
import type { ScriptArg } from './commands';
import { RedisConnection } from './connection';
import { readCounters } from './counter-read';
import type { RedisClient } from './connection';
import { writeThenWait } from './durable-write';
import { deadlines } from '../deadline';
import { recordMeta } from './meta';
import type { StoreMeta } from './meta';
import { loadScripts } from './scripts';
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
  }

  async stop(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
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
    const k = this.shardKeys(shard);
    const record = encodeSession(s);
    const reply = await this.write(
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
      (r) => r !== Reply.STALE_CREDENTIALS,
    );
    return reply === Reply.STALE_CREDENTIALS ? null : strings(reply);
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
    if (!buf) return null;
    const s = decodeOrCount(this.stats, () => decodeSession(id, buf));
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
    const k = this.shardKeys(shard);
    // A lost renewal only shortens a session: no WAIT.
    const code = await this.run(
      'touch',
      'touch',
      this.connection.writes,
      [k.session(shard, id), k.live(shard, id), k.counter(shard), k.due(shard)],
      [encodeTouch(lastSeenAt, expiresAt), expiresAt, SWEEP_GRACE_MS, now, id, k.liveBuckets],
    );
    return this.applied(code);
  }

  async rotate(shard: number, oldId: string, next: StoredSession, now: number): Promise<boolean> {
    const k = this.shardKeys(shard);
    const record = encodeSession(next);
    const code = await this.write(
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
    return this.applied(code);
  }

  async revoke(shard: number, id: string, userId?: string): Promise<boolean> {
    const k = this.shardKeys(shard);
    const code = await this.write(
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
      ],
      [id, userId === undefined ? '0' : '1', userId ?? '', k.userBuckets],
      (reply) => reply === Reply.APPLIED,
    );
    return this.applied(code);
  }

  async revokeUser(
    shard: number,
    userId: string,
    exceptId?: string,
    epoch?: number,
  ): Promise<string[]> {
    const k = this.shardKeys(shard);
    const reply = await this.write(
      'revokeUser',
      'revoke-user',
      [
        k.users(shard, userId),
        k.livePrefix(shard),
        k.sessionPrefix(shard),
        k.seriesUsers(shard, userId),
        k.seriesPrefix(shard),
        k.credentials(shard, userId),
        k.counter(shard),
        k.due(shard),
      ],
      [userId, exceptId ?? '', k.liveBuckets, epoch ?? ''],
      // Series may have been deleted even when no session was: always wait.
      () => true,
    );
    return strings(reply);
  }

  async revokeShard(shard: number): Promise<ShardRevoked> {
    const k = this.shardKeys(shard);
    const reply = await this.write(
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
      ],
      [k.liveBuckets, k.userBuckets],
      () => true,
    );
    const [sessions, series] = Array.isArray(reply) ? (reply as number[]) : [0, 0];
    return { sessions: Number(sessions), series: Number(series) };
  }

  async listUser(shard: number, userId: string, now: number): Promise<StoredSession[]> {
    const k = this.shardKeys(shard);
    const reply = await this.run(
      'listUser',
      'list-user',
      this.connection.reads,
      [k.users(shard, userId), k.sessionPrefix(shard)],
      [userId],
      true,
    );
    const flat = Array.isArray(reply) ? (reply as Buffer[]) : [];
    const out: StoredSession[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const s = decodeOrCount(this.stats, () => decodeSession(flat[i].toString(), flat[i + 1]));
      if (s && s.expiresAt > now) out.push(s);
    }
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
    const keys = Array.from({ length: this.shards }, (_, shard) => this.keys.counter(shard));
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
    this.nextRepair = (repair + 1) % this.shards;
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
  async lease(owner: string, ttlMs: number): Promise<boolean> {
    const reply = await this.run(
      'lease',
      'lease',
      this.connection.writes,
      [this.keys.sweepLease()],
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
    const k = this.shardKeys(shard);
    const record = encodeSeries(series);
    const reply = await this.write(
      'createSeries',
      'create-series',
      [
        k.series(shard, series.id),
        k.seriesUsers(shard, series.userId),
        k.seriesPrefix(shard),
        k.credentials(shard, series.userId),
      ],
      [record, series.id, series.userId, series.expiresAt, series.credentialVersion, maxPerUser],
      (r) => r === Reply.APPLIED,
    );
    return reply === Reply.APPLIED;
  }

  async useSeries(
    shard: number,
    id: string,
    presentedHash: Buffer,
    nextHash: Buffer,
    now: number,
    grace: number,
  ): Promise<SeriesUse> {
    const k = this.shardKeys(shard);
    if (presentedHash.length !== HASH_BYTES || nextHash.length !== HASH_BYTES) {
      throw new TypeError(`a token hash is ${HASH_BYTES} bytes`);
    }
    // What a rotation writes at codec offset 1: next hash, the presented one as previous, flag, time.
    const rotation = Buffer.alloc(2 * HASH_BYTES + 7);
    nextHash.copy(rotation, 0);
    presentedHash.copy(rotation, HASH_BYTES);
    rotation[2 * HASH_BYTES] = 1;
    rotation.writeUIntBE(now, 2 * HASH_BYTES + 1, 6);
    const reply = await this.write(
      'useSeries',
      'use-series',
      [k.series(shard, id), k.seriesUsersPrefix(shard), k.credentialsPrefix(shard)],
      [id, presentedHash, rotation, now, grace, k.userBuckets],
      (r) => Array.isArray(r) && (r[0] === SeriesReply.ROTATED || r[0] === SeriesReply.THEFT),
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
    const k = this.shardKeys(shard);
    if (presentedHash.length !== HASH_BYTES)
      throw new TypeError(`a token hash is ${HASH_BYTES} bytes`);
    const code = await this.write(
      'revokeSeries',
      'revoke-series',
      [k.series(shard, id), k.seriesUsersPrefix(shard)],
      [id, now, k.userBuckets, presentedHash, grace],
      (reply) => reply === Reply.APPLIED,
    );
    return this.applied(code);
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
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.shards) {
      throw new RangeError(`shard ${shard} is outside 0..${this.shards - 1}`);
    }
    return this.keys;
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

/** The master connections of a client: every cluster master, or the one server. */
function masters(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
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
