import { createHash } from 'node:crypto';
import type { LuaScript } from '../store/redis/scripts';
import { DurableWrites, durableScript, guard, RedisClient } from './redis-client';
import type { ThrottleRule, ThrottleStore } from './throttle';

// One key per call (never CROSSSLOT). KEYS[1] = counter HASH {c = count, l = last attempt ms};
// ARGV = now, limit, baseDelay, maxDelay, window. Returns ms left to wait, or 0 after counting.
const ATTEMPT = `
local c = tonumber(redis.call('HGET', KEYS[1], 'c') or '0')
local l = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local base, max, window = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if c >= limit then
  local d = math.min(max, base * 2 ^ math.min(c - limit, 40))
  local left = l + d - now
  if left > 0 then return math.ceil(left) end
end
redis.call('HSET', KEYS[1], 'c', c + 1, 'l', now)
redis.call('PEXPIRE', KEYS[1], math.max(window, max))
return 0
`;
// KEYS[1] = counter HASH. Un-counts one attempt, never below zero.
const RELEASE = `
local c = tonumber(redis.call('HGET', KEYS[1], 'c') or '0')
if c > 0 then redis.call('HINCRBY', KEYS[1], 'c', -1) end
return 0
`;

function script(name: string, lua: string): LuaScript {
  return { name, numKeys: 1, lua, sha: createHash('sha1').update(lua).digest('hex') };
}
const ATTEMPT_SCRIPT = script('throttle-attempt', ATTEMPT);

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
      ? await durableScript(this.durable, 'throttle.attempt', ATTEMPT_SCRIPT, [k], argv)
      : await guard('throttle.attempt', () => this.redis.eval(ATTEMPT, 1, k, ...argv));
    return Number(left);
  }

  // release and reset never WAIT: lost in a failover, they leave a count behind, which only
  // makes throttling stricter (as a lost renewal only shortens a session). Each WAIT that times
  // out costs a login about durability.timeout plus Redis's timer tick (hz 10: up to 100 ms).
  async release(key: string): Promise<void> {
    await guard('throttle.release', () => this.redis.eval(RELEASE, 1, this.key(key)));
  }

  async reset(key: string): Promise<void> {
    await guard('throttle.reset', () => this.redis.del(this.key(key)));
  }
}
