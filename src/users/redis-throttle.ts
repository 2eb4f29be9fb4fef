import { join } from 'node:path';
import { loadScriptDir } from '../store/redis/scripts';
import { DurableWrites, durableScript, guard, RedisClient } from './redis-client';
import type { ThrottleRule, ThrottleStore } from './throttle';

const SCRIPTS = loadScriptDir(join(__dirname, 'lua'), [
  'throttle-attempt',
  'throttle-release',
] as const);

/** Login failure counters in Redis: shared by every node, kept across restarts. */
export class RedisThrottleStore implements ThrottleStore {
  /** A getter is allowed: the engine's client exists only after engine.start(). */
  private readonly client: () => RedisClient;

  constructor(
    client: RedisClient | (() => RedisClient),
    private readonly prefix: string,
    /**
     * With store.redis.durability.replicas > 0 (ADR 215): an attempt is counted on the writes
     * client and followed by WAIT, so a failover does not hand an attacker fresh attempts.
     */
    private readonly durable?: DurableWrites,
  ) {
    this.client = typeof client === 'function' ? client : () => client;
  }

  private get redis(): RedisClient {
    return this.client();
  }

  private key(k: string): string {
    return `{${this.prefix}:t:${k}}`;
  }

  async attempt(key: string, rule: ThrottleRule, now: number): Promise<number> {
    const argv = [now, rule.limit, rule.baseDelay, rule.maxDelay, rule.window];
    const k = this.key(key);
    const left = this.durable
      ? await durableScript(
          this.durable,
          'throttle.attempt',
          SCRIPTS['throttle-attempt'],
          [k],
          argv,
        )
      : await guard('throttle.attempt', () =>
          this.redis.eval(SCRIPTS['throttle-attempt'].lua, 1, k, ...argv),
        );
    return Number(left);
  }

  // release and reset never WAIT: lost in a failover, they leave a count behind, which only
  // makes throttling stricter (as a lost renewal only shortens a session). Each WAIT that times
  // out costs a login about durability.timeout plus Redis's timer tick (hz 10: up to 100 ms).
  async release(key: string): Promise<void> {
    await guard('throttle.release', () =>
      this.redis.eval(SCRIPTS['throttle-release'].lua, 1, this.key(key)),
    );
  }

  async reset(key: string): Promise<void> {
    await guard('throttle.reset', () => this.redis.del(this.key(key)));
  }
}
