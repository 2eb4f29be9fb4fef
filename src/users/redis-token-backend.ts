import { join } from 'node:path';
import { evalScript } from '../store/redis/commands';
import { UserReply } from '../store/redis/script-replies';
import { loadScriptDir } from '../store/redis/scripts';
import type { TokenBackend } from './account-tokens';
import {
  DurableWrites,
  durableCommand,
  durableScript,
  guard,
  guardScript,
  RedisClient,
} from './redis-client';

const SCRIPTS = loadScriptDir(join(__dirname, 'lua'), ['delete-if'] as const);

/**
 * Account tokens in Redis on the session engine's client: every operation is on one key (a hash
 * tag per key), so nothing is CROSSSLOT in a cluster; records expire by PX as well as by the
 * deadline AccountTokens checks on read.
 */
export class RedisTokenBackend implements TokenBackend {
  private readonly client: () => RedisClient;

  constructor(
    client: RedisClient | (() => RedisClient),
    /**
     * With store.redis.durability.replicas > 0 (ADR 246): every change (issue, use, invalidate) on
     * the writes client followed by WAIT, as user records. Above all the use: a consumed reset
     * token whose deletion a failover lost would open the account again.
     */
    private readonly durable?: DurableWrites,
  ) {
    this.client = typeof client === 'function' ? client : () => client;
  }

  get(key: string): Promise<string | null> {
    return guard('tokens.get', () => this.client().get(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const px = Math.ceil(ttlMs);
    if (this.durable) {
      await durableCommand(this.durable, 'tokens.set', 'set', key, [value, 'PX', px]);
      return;
    }
    await guard('tokens.set', () => this.client().set(key, value, 'PX', px));
  }

  async deleteIf(key: string, value: string): Promise<boolean> {
    const script = SCRIPTS['delete-if'];
    const reply = this.durable
      ? await durableScript(this.durable, 'tokens.deleteIf', script, [key], [value])
      : await guardScript('tokens.deleteIf', 'delete-if', () =>
          evalScript(this.client(), script, [key], [value]),
        );
    return Number(reply) === UserReply.DONE;
  }

  async del(key: string): Promise<void> {
    if (this.durable) {
      await durableCommand(this.durable, 'tokens.del', 'del', key, []);
      return;
    }
    await guard('tokens.del', () => this.client().del(key));
  }
}
