import { EventEmitter } from 'node:events';
import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import type { KeyLayout } from '../keys';
import type { RedisConnection } from '../redis/connection';
import { hashSlot } from '../redis/hash-slot';

/** Sessions of one shard that are no longer what a near cache holds; `all`: the whole shard. */
export interface Invalidation {
  readonly shard: number;
  readonly ids: readonly string[] | 'all';
}

export interface BusListener {
  /** An invalidation published by any worker of any node (this one's included). */
  message(invalidation: Invalidation): void;
  /**
   * The subscription is complete (true) or is lost (false). Between a false and the next true,
   * messages may have been missed: the near cache must hold nothing it read before.
   */
  state(subscribed: boolean): void;
}

/** Carries invalidations between every worker of every node that shares a store. */
export interface InvalidationBus {
  start(listener: BusListener): void;
  /** Resolves when sent (or when sending failed: the staleness bound covers a lost message). */
  publish(invalidation: Invalidation): Promise<boolean>;
  stop(): Promise<void>;
}

/** `<shard> <id> <id>...` or `<shard> *`. Session ids hold no spaces. */
export function encodeInvalidation(inv: Invalidation): string {
  return `${inv.shard} ${inv.ids === 'all' ? '*' : inv.ids.join(' ')}`;
}

export function decodeInvalidation(payload: string): Invalidation | null {
  const parts = payload.split(' ');
  const shard = Number(parts[0]);
  if (!Number.isInteger(shard) || shard < 0 || parts.length < 2) return null;
  if (parts[1] === '*') return { shard, ids: 'all' };
  return { shard, ids: parts.slice(1).filter((id) => id.length > 0) };
}

/** The memory store's bus: engines wrapping the same MemoryEngine share one emitter. */
export class MemoryBus implements InvalidationBus {
  private static readonly emitters = new WeakMap<object, EventEmitter>();
  private readonly emitter: EventEmitter;
  private listener: ((inv: Invalidation) => void) | null = null;
  private state: ((up: boolean) => void) | null = null;

  constructor(store: object) {
    let emitter = MemoryBus.emitters.get(store);
    if (!emitter) {
      emitter = new EventEmitter();
      emitter.setMaxListeners(0);
      MemoryBus.emitters.set(store, emitter);
    }
    this.emitter = emitter;
  }

  start(listener: BusListener): void {
    this.listener = (inv) => listener.message(inv);
    this.emitter.on('invalidation', this.listener);
    this.state = (up) => listener.state(up);
    this.state(true); // in-process: nothing can be lost
  }

  publish(invalidation: Invalidation): Promise<boolean> {
    this.emitter.emit('invalidation', invalidation);
    return Promise.resolve(true);
  }

  stop(): Promise<void> {
    if (this.listener) this.emitter.off('invalidation', this.listener);
    this.state?.(false);
    this.listener = this.state = null;
    return Promise.resolve();
  }
}

/** One subscriber connection and the channels it carries. */
interface Target {
  readonly template: Redis;
  readonly channels: string[];
}

export interface RedisBusOptions {
  /** How often the subscribed masters are compared with the client's slot map (cluster). */
  readonly checkInterval?: number;
  /** The longest wait between two attempts to subscribe again. */
  readonly maxBackoff?: number;
}

/**
 * The Redis bus. Cluster: sharded pub/sub (Redis 7), one channel per shard carrying the shard's hash
 * tag, so SPUBLISH goes to the shard's own master and is not broadcast over the cluster bus; one
 * subscriber connection per master SSUBSCRIBEs the channels of the slots it owns. Standalone and
 * sentinel: one channel, PUBLISH/SUBSCRIBE on one extra connection.
 *
 * The subscription is all or nothing: any connection closing, a subscribe failing, or the slot map
 * moving a channel to another master reports `state(false)` and every connection is dropped and
 * made again (with backoff) until all are subscribed. ioredis's own resubscription is off: it
 * would resubscribe without telling which messages were missed meanwhile.
 */
export class RedisBus implements InvalidationBus {
  private listener: BusListener | null = null;
  private attempt = 0;
  private live: Array<{ sub: Redis; template: Redis; channels: string[] }> = [];
  private up = false;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private check: NodeJS.Timeout | null = null;
  private backoff = 50;
  private readonly checkInterval: number;
  private readonly maxBackoff: number;

  constructor(
    private readonly connection: () => RedisConnection,
    private readonly layout: KeyLayout,
    options: RedisBusOptions = {},
  ) {
    this.checkInterval = options.checkInterval ?? 1000;
    this.maxBackoff = options.maxBackoff ?? 2000;
  }

  /** The subscriber connections now open (tests, diagnostics). */
  get subscribers(): readonly Redis[] {
    return this.live.map((l) => l.sub);
  }

  private get cluster(): boolean {
    return this.connection().isCluster;
  }

  /** The channel of a shard: its hash tag, so it lives on the shard's slot. */
  channel(shard: number): string {
    return this.cluster ? `${this.layout.tag(shard)}:nc` : `${this.layout.prefix}:nc`;
  }

  start(listener: BusListener): void {
    this.listener = listener;
    this.stopped = false;
    void this.subscribe();
    if (this.cluster) {
      this.check = setInterval(() => this.verifyTopology(), this.checkInterval);
      this.check.unref();
    }
  }

  async publish(invalidation: Invalidation): Promise<boolean> {
    const { reads } = this.connection();
    const channel = this.channel(invalidation.shard);
    const payload = encodeInvalidation(invalidation);
    try {
      if (reads instanceof Cluster) await reads.spublish(channel, payload);
      else await reads.publish(channel, payload);
      return true;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.check) clearInterval(this.check);
    this.retry = this.check = null;
    this.attempt++;
    this.setState(false);
    this.closeAll();
    return Promise.resolve();
  }

  private targets(): Target[] {
    const { reads } = this.connection();
    if (!(reads instanceof Cluster)) return [{ template: reads, channels: [this.channel(0)] }];
    const byNode = new Map<string, string[]>();
    // Every shard the data lives under: after a growth (ADR 260) nodes still set to the old count
    // serve cookies of the new shards, whose invalidations are published on their channels.
    for (let shard = 0; shard < this.layout.tokenShards; shard++) {
      const channel = this.channel(shard);
      const owner = reads.slots[hashSlot(channel)]?.[0];
      if (!owner) throw new Error(`no master known for slot ${hashSlot(channel)}`);
      const list = byNode.get(owner) ?? [];
      list.push(channel);
      byNode.set(owner, list);
    }
    const nodes = new Map(reads.nodes('master').map((n) => [nodeKey(n), n]));
    return [...byNode].map(([key, channels]) => {
      const template = nodes.get(key);
      if (!template) throw new Error(`no connection to master ${key}`);
      return { template, channels };
    });
  }

  /** One attempt: every target connected and subscribed, or all dropped and tried again later. */
  private async subscribe(): Promise<void> {
    const attempt = ++this.attempt;
    this.closeAll();
    try {
      const targets = this.targets();
      const opened = targets.map((t) => ({ ...t, sub: this.open(t.template, attempt) }));
      this.live = opened;
      await Promise.all(opened.map((o) => this.join(o.sub, o.channels)));
      if (attempt !== this.attempt || this.stopped) return;
      this.backoff = 50;
      this.setState(true);
    } catch {
      if (attempt === this.attempt) this.lost(attempt);
    }
  }

  private open(template: Redis, attempt: number): Redis {
    const sub = template.duplicate({
      connectionName: `${template.options.connectionName ?? 'holdfast'}-nearcache`,
      lazyConnect: true,
      autoResubscribe: false,
      enableOfflineQueue: true,
      // No reconnect of its own: a new attempt rebuilds every connection from the slot map.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableAutoPipelining: false,
    });
    sub.on('error', () => {});
    sub.on('close', () => this.lost(attempt));
    // A MOVED to SSUBSCRIBE leaves ioredis's promise pending and emits 'moved'.
    sub.on('moved', () => this.lost(attempt));
    const deliver = (_channel: string, payload: string): void => {
      if (attempt !== this.attempt || !this.listener) return;
      const inv = decodeInvalidation(payload);
      if (inv) this.listener.message(inv);
    };
    sub.on('smessage', deliver);
    sub.on('message', deliver);
    return sub;
  }

  private async join(sub: Redis, channels: string[]): Promise<void> {
    const timeout = sub.options.connectTimeout ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('subscribe timed out')), timeout);
    });
    try {
      await Promise.race([
        (async () => {
          await sub.connect();
          // SSUBSCRIBE takes channels of one slot only: one command per shard, sent together.
          if (this.cluster) await Promise.all(channels.map((c) => sub.ssubscribe(c)));
          else await sub.subscribe(...channels);
        })(),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Subscription lost: say so first (the cache drops), then rebuild after a backoff. */
  private lost(attempt: number): void {
    if (attempt !== this.attempt || this.stopped) return;
    this.attempt++;
    this.setState(false);
    this.closeAll();
    // A dead master: ask the cluster for the slot map again, so the next attempt finds its heir.
    const { reads } = this.connection();
    if (reads instanceof Cluster) reads.refreshSlotsCache();
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.subscribe();
    }, wait);
    this.retry.unref();
  }

  /**
   * A failover or a slot migration moves channels to another master, and a growth of the shard
   * count (ADR 260) adds channels: subscribe again, everywhere.
   */
  private verifyTopology(): void {
    if (!this.up) return;
    const { reads } = this.connection();
    if (!(reads instanceof Cluster)) return;
    const subscribed = this.live.reduce((n, l) => n + l.channels.length, 0);
    if (subscribed !== this.layout.tokenShards) {
      this.lost(this.attempt);
      return;
    }
    for (const { template, channels } of this.live) {
      const key = nodeKey(template);
      if (channels.some((c) => reads.slots[hashSlot(c)]?.[0] !== key)) {
        this.lost(this.attempt);
        return;
      }
    }
  }

  private setState(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.listener?.state(up);
  }

  private closeAll(): void {
    for (const { sub } of this.live) {
      sub.removeAllListeners('close');
      sub.disconnect();
    }
    this.live = [];
  }
}

function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}
