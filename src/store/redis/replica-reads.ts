import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import type { RedisSettings } from '../../config/settings';
import { slotOf } from './unavailable';
import { connectionName } from './connection';

/**
 * Session reads that survive a master's death or freeze (ADR 205). With
 * store.redis.durability.replicas >= 1 every create, rotate and revoke was acknowledged by that
 * many replicas before it answered, so a replica holds every session change a user was told
 * about. When the master's GET fails, or has not answered after a quarter of commandTimeout, the
 * same key is read from the master's replicas (ioredis's pool connections to replicas, which
 * send READONLY), and the first answer wins, all within the read's commandTimeout.
 *
 * With durability.replicas 0 this is off: a replica may lag behind a revoke that was never
 * waited for, and would show the revoked session again.
 */

/** When the master has not answered after this share of commandTimeout, replicas are asked too. */
export const HEDGE_SHARE = 0.25;

export type ReadSource = 'master' | 'replica';

/** What a replica is asked: a session's GET, or a user record's HGETALL (ADR 205, 240). */
export type ReplicaCommand = 'getBuffer' | 'hgetall';

/** A GET of one key, from the master or, failing that, the replicas. */
export interface Fallback<T> {
  /** The master's read (already sent). Rejects when it fails. */
  readonly primary: Promise<T>;
  /** Asks the replicas; `ms` is what is left of the deadline. */
  readonly replica: (ms: number) => Promise<T>;
  /** Whether an answer means "none" (taken from a replica only when the master gave up). */
  readonly empty: (value: T) => boolean;
  /** Whether the master's error is an outage a replica may cover; any other (a bug) is thrown. */
  readonly covers: (err: unknown) => boolean;
  readonly hedgeAfter: number;
  readonly timeout: number;
}

/** Why the read gave up: the master's own error when it has one, else a timeout. */
export class ReadTimeoutError extends Error {
  constructor(ms: number) {
    super(`read timed out after ${ms} ms (store.redis.commandTimeout)`);
    this.name = 'ReadTimeoutError';
  }
}

/**
 * The master's answer, or a replica's when the master fails or is slow; never later than
 * `timeout` ms. A replica's "none" is taken only once the master has failed or the time is up:
 * while the master may still answer, its answer is the better one (a session whose write was not
 * yet replicated). Rejects with the master's error (or ReadTimeoutError) when nothing answered.
 */
export function readWithFallback<T>(f: Fallback<T>): Promise<{ value: T; from: ReadSource }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let done = false;
    let primaryError: unknown;
    let primaryDone = false;
    let replicaStarted = false;
    let replicaDone = false;
    let replicaEmpty: { value: T } | undefined;
    const timers: NodeJS.Timeout[] = [];
    const finish = (outcome: { value: T; from: ReadSource } | { error: unknown }) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome);
    };
    const giveUp = () => {
      if (replicaEmpty) return finish({ value: replicaEmpty.value, from: 'replica' });
      finish({ error: primaryError ?? new ReadTimeoutError(f.timeout) });
    };
    const settleIfNothingLeft = () => {
      if (primaryDone && (replicaDone || !replicaStarted)) giveUp();
    };
    const askReplicas = () => {
      if (replicaStarted || done) return;
      replicaStarted = true;
      const left = f.timeout - (Date.now() - started);
      f.replica(left).then(
        (value) => {
          replicaDone = true;
          if (!f.empty(value)) return finish({ value, from: 'replica' });
          replicaEmpty = { value };
          if (primaryDone) giveUp();
        },
        () => {
          replicaDone = true;
          settleIfNothingLeft();
        },
      );
    };
    f.primary.then(
      (value) => finish({ value, from: 'master' }),
      (err: unknown) => {
        if (!f.covers(err)) return finish({ error: err });
        primaryDone = true;
        primaryError = err;
        if (!replicaStarted) askReplicas();
        settleIfNothingLeft();
      },
    );
    timers.push(setTimeout(askReplicas, f.hedgeAfter));
    timers.push(setTimeout(giveUp, f.timeout));
  });
}

/** `promise`, or ReadTimeoutError after `ms`: a read never outlives its deadline. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  // One promise, not a race of two and a finally: this is on every strict-mode read (ADR 250).
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ReadTimeoutError(ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Whether replica reads are on for these settings: a cluster whose writes wait for a replica. */
export function replicaReadsEnabled(settings: RedisSettings): boolean {
  return settings.mode === 'cluster' && settings.durability.replicas >= 1;
}

/** How old the replica map may be before a fallback read refreshes it (in the background). */
export const MAP_MAX_AGE_MS = 5000;

/**
 * The replicas of every master, and one READONLY connection per replica, for replica reads. Not
 * ioredis's own replica connections: its slot map comes from CLUSTER SLOTS, which leaves out a
 * replica whose replication offset is still 0 (Redis 7.0: a new cluster, before the first write),
 * and it keeps that map until a redirect or an error makes it ask again. This map comes from
 * CLUSTER NODES (every replica, its master's id), read at start and again on a fallback when it
 * is older than MAP_MAX_AGE_MS, or at once when it knows no replica for the master in question.
 */
export class ReplicaSet {
  /** Master address → its replicas' addresses (`host:port`, natMap applied). */
  private replicasOf = new Map<string, string[]>();
  /** Slot → the address of the master CLUSTER NODES gives it to. */
  private owners: ReadonlyArray<string | undefined> = [];
  private readonly clients = new Map<string, Redis>();
  private readAt = 0;
  private reading: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly name: string,
  ) {}

  /** Reads CLUSTER NODES from the first node that answers; concurrent calls share one read. */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    const nodes = this.cluster.nodes('all');
    if (nodes.length === 0) throw new Error('no cluster node is known');
    const text = await Promise.any(nodes.map((node) => node.cluster('NODES') as Promise<string>));
    this.replicasOf = parseClusterNodes(String(text), (address) => this.mapped(address));
    this.owners = parseSlotOwners(String(text), (address) => this.mapped(address));
    this.readAt = Date.now();
  }

  /** The READONLY connections to the replicas of the master serving `key`'s slot. */
  async replicasFor(key: string): Promise<Redis[]> {
    const slot = slotOf(key);
    const master = this.cluster.slots[slot]?.[0];
    if (master === undefined) return [];
    let replicas = this.candidates(slot, master);
    if (replicas.length === 0) {
      await this.refresh();
      replicas = this.candidates(slot, master);
    } else if (Date.now() - this.readAt > MAP_MAX_AGE_MS) {
      this.refresh().catch(() => {});
    }
    return this.closed ? [] : replicas.map((address) => this.client(address));
  }

  /**
   * The master's replicas; or, when CLUSTER NODES says another node now owns the slot, that node:
   * after a failover ioredis keeps sending to the old (frozen) master until a redirect, and the
   * promoted replica holds every acknowledged write (ADR 241).
   */
  private candidates(slot: number, master: string): string[] {
    const owner = this.owners[slot];
    if (owner !== undefined && owner !== master) return [owner];
    return this.replicasOf.get(master) ?? [];
  }

  /** Disconnects the replica connections (the engine stops). */
  close(): void {
    this.closed = true;
    for (const client of this.clients.values()) client.disconnect();
    this.clients.clear();
  }

  private client(address: string): Redis {
    let client = this.clients.get(address);
    if (!client) {
      const [host, port] = splitAddress(address);
      client = new Redis({
        ...this.cluster.options.redisOptions,
        host,
        port,
        connectionName: connectionName(this.name, 'replica-reads'),
        readOnly: true,
        lazyConnect: true,
        enableAutoPipelining: false,
        maxRetriesPerRequest: 0,
      });
      // Errors surface on the reads; an unhandled 'error' event would crash the process.
      client.on('error', () => {});
      this.clients.set(address, client);
    }
    return client;
  }

  private mapped(address: string): string {
    const natMap = this.cluster.options.natMap;
    if (natMap && typeof natMap === 'object') {
      const to = (natMap as Record<string, { host: string; port: number }>)[address];
      if (to) return `${to.host}:${to.port}`;
    }
    return address;
  }
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

/**
 * CLUSTER NODES as master address → replica addresses. A replica flagged `fail` or `noaddr`, or
 * one whose master is unknown, is left out; a master marked failed keeps its replicas (the case
 * replica reads exist for).
 */
export function parseClusterNodes(
  text: string,
  mapped: (address: string) => string = (a) => a,
): Map<string, string[]> {
  const addressOf = new Map<string, string>();
  const replicas: Array<{ address: string; master: string }> = [];
  for (const line of text.split('\n')) {
    const [id, endpoint, flagText, master] = line.trim().split(' ');
    if (!id || !endpoint || !flagText) continue;
    const address = mapped(endpoint.split('@')[0]);
    addressOf.set(id, address);
    const flags = flagText.split(',');
    if (flags.includes('slave') && !flags.includes('fail') && !flags.includes('noaddr')) {
      replicas.push({ address, master });
    }
  }
  const out = new Map<string, string[]>();
  for (const { address, master } of replicas) {
    const masterAddress = addressOf.get(master);
    if (masterAddress === undefined) continue;
    out.set(masterAddress, [...(out.get(masterAddress) ?? []), address]);
  }
  return out;
}

/**
 * Slot → the address of the master that serves it, from CLUSTER NODES (ranges like `0-5460` and
 * single slots; `[slot->-id]` migration entries are skipped). A failed master serves nothing.
 */
export function parseSlotOwners(
  text: string,
  mapped: (address: string) => string = (a) => a,
): Array<string | undefined> {
  const owners: Array<string | undefined> = [];
  for (const line of text.split('\n')) {
    const [id, endpoint, flagText, , , , , , ...slots] = line.trim().split(' ');
    if (!id || !endpoint || !flagText) continue;
    const flags = flagText.split(',');
    if (!flags.includes('master') || flags.includes('fail')) continue;
    const address = mapped(endpoint.split('@')[0]);
    for (const range of slots) {
      if (range.startsWith('[')) continue;
      const [from, to = from] = range.split('-').map(Number);
      for (let slot = from; slot <= to; slot++) owners[slot] = address;
    }
  }
  return owners;
}

const REPL_OFFSET = /^slave_repl_offset:(\d+)/m;

/**
 * `command` of `key` (a session's GET as a Buffer, or a user record's HGETALL, ADR 241) from its
 * replicas. When the master has more replicas than
 * durability.replicas, an acknowledged write may be on some of them only: then enough replicas
 * must answer that one of them acknowledged it (replicas - acknowledged + 1), and the answer of
 * the one furthest along the replication stream (INFO's slave_repl_offset, read before the GET) is
 * taken: the replica that Redis Cluster would promote. Rejects when too few answer in `ms`.
 */
export async function getFromReplicas<T = Buffer | null>(
  set: ReplicaSet,
  key: string,
  acknowledged: number,
  ms: number,
  command: ReplicaCommand = 'getBuffer',
): Promise<T> {
  const started = Date.now();
  const replicas = await withTimeout(set.replicasFor(key), ms);
  if (replicas.length === 0) throw new Error('no replica is known for the slot');
  const need = Math.max(1, replicas.length - acknowledged + 1);
  const left = ms - (Date.now() - started);
  return new Promise((resolve, reject) => {
    const answers: Array<{ offset: number; value: T }> = [];
    let failed = 0;
    const timer = setTimeout(() => reject(new ReadTimeoutError(ms)), Math.max(0, left));
    const settle = () => {
      if (answers.length >= need) {
        clearTimeout(timer);
        answers.sort((a, b) => b.offset - a.offset);
        resolve(answers[0].value);
      } else if (replicas.length - failed < need) {
        clearTimeout(timer);
        reject(new Error(`${failed} of ${replicas.length} replicas failed`));
      }
    };
    for (const node of replicas) {
      readReplica<T>(node, key, need > 1, command).then(
        (answer) => {
          answers.push(answer);
          settle();
        },
        () => {
          failed++;
          settle();
        },
      );
    }
  });
}
async function readReplica<T>(
  node: Redis,
  key: string,
  withOffset: boolean,
  command: ReplicaCommand,
): Promise<{ offset: number; value: T }> {
  if (!withOffset) return { offset: 0, value: (await node[command](key)) as T };
  // One pipeline: the offset is read before the read, so the read shows at least that much.
  const results = (await node.pipeline().info('replication')[command](key).exec()) ?? [];
  const [[infoErr, info], [readErr, value]] = results;
  if (infoErr) throw infoErr;
  if (readErr) throw readErr;
  const offset = Number(REPL_OFFSET.exec(String(info))?.[1] ?? -1);
  return { offset, value: value as T };
}
