import { join } from 'node:path';
import { evalScript } from '../store/redis/commands';
import { UserReply } from '../store/redis/script-replies';
import { loadScriptDir } from '../store/redis/scripts';
import type { TokenBackend } from './account-tokens';
import { guard, guardScript, RedisClient } from './redis-client';

const SCRIPTS = loadScriptDir(join(__dirname, 'lua'), ['delete-if'] as const);

/**
 * Account tokens in Redis on the session engine's client: every operation is on one key (a hash
 * tag per key), so nothing is CROSSSLOT in a cluster; records expire by PX as well as by the
 * deadline AccountTokens checks on read.
 */
export class RedisTokenBackend implements TokenBackend {
  private readonly client: () => RedisClient;

  constructor(client: RedisClient | (() => RedisClient)) {
    this.client = typeof client === 'function' ? client : () => client;
  }

  get(key: string): Promise<string | null> {
    return guard('tokens.get', () => this.client().get(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await guard('tokens.set', () => this.client().set(key, value, 'PX', Math.ceil(ttlMs)));
  }

  async deleteIf(key: string, value: string): Promise<boolean> {
    const reply = await guardScript('tokens.deleteIf', 'delete-if', () =>
      evalScript(this.client(), SCRIPTS['delete-if'], [key], [value]),
    );
    return Number(reply) === UserReply.DONE;
  }

  async del(key: string): Promise<void> {
    await guard('tokens.del', () => this.client().del(key));
  }
}
