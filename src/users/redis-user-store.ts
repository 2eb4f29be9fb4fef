import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { evalScript } from '../store/redis/commands';
import { loadScriptDir } from '../store/redis/scripts';
import { normalizeEmail } from './email';
import { guard, RedisClient } from './redis-client';
import {
  IdentityProvider,
  NewUser,
  newUser,
  PasswordExpectation,
  PasswordWrite,
  User,
  UserExistsError,
  UserStore,
} from './user-store';

/** The user store's Lua scripts (src/users/lua, copied next to the compiled code by the build). */
const SCRIPTS = loadScriptDir(join(__dirname, 'lua'), [
  'update-password',
  'disable-user',
  'delete-user',
] as const);

/**
 * Users in Redis. Every operation is on one key, so nothing is ever CROSSSLOT in a cluster:
 *
 *   {hf:u:<userId>}            HASH    the user record
 *   {hf:e:<sha256(email)>}     STRING  userId: the unique email index (SET NX)
 *   {hf:o:<sha256(prov:sub)>}  STRING  userId: a linked OAuth identity (SET NX)
 *
 * Record fields: id, e email, n name, ph password hash, v email verified, c created, pc password
 * changed, cv credential version (ADR 040), d disabled. A credential write is a compare-and-set
 * script on the record (src/users/lua), so a re-hash never overwrites a newer password.
 *
 * Emails and provider subjects appear in key names only hashed. Creation writes the record first
 * (a fresh random id cannot collide) and then claims the email with SET NX; the loser of a race
 * deletes its orphan record, so two concurrent registrations of one email make one account.
 */
export class RedisUserStore implements UserStore {
  /** A getter is allowed: the engine's client exists only after engine.start(). */
  private readonly client: () => RedisClient;

  constructor(
    client: RedisClient | (() => RedisClient),
    private readonly prefix: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.client = typeof client === 'function' ? client : () => client;
  }

  private get redis(): RedisClient {
    return this.client();
  }

  private userKey(id: string): string {
    return `{${this.prefix}:u:${id}}`;
  }
  private emailKey(email: string): string {
    return `{${this.prefix}:e:${digest(email)}}`;
  }
  private identityKey(provider: string, subject: string): string {
    return `{${this.prefix}:o:${digest(`${provider}:${subject}`)}}`;
  }

  async create(input: NewUser): Promise<User> {
    const user = newUser(input, this.clock());
    const email = user.email;
    const key = this.userKey(user.id);
    await guard('users.create', () => this.redis.hset(key, encode(user)));
    const claimed = await guard('users.create', () =>
      this.redis.set(this.emailKey(email), user.id, 'NX'),
    );
    if (claimed !== 'OK') {
      await guard('users.create', () => this.redis.del(key));
      throw new UserExistsError();
    }
    return user;
  }

  async findById(id: string): Promise<User | null> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return null;
    const h = await guard('users.findById', () => this.redis.hgetall(this.userKey(id)));
    return decode(h);
  }

  async findByEmail(email: string): Promise<User | null> {
    const normalized = normalizeEmail(email);
    const id = await guard('users.findByEmail', () => this.redis.get(this.emailKey(normalized)));
    if (!id) return null;
    const user = await this.findById(id);
    // A record whose email differs cannot be this user's (defence against a corrupted index).
    return user && user.email === normalized ? user : null;
  }

  async updatePassword(
    id: string,
    expected: PasswordExpectation,
    passwordHash: string,
    write: PasswordWrite,
  ): Promise<number | null> {
    const [mode, value] =
      'expectedHash' in expected
        ? ['hash', expected.expectedHash]
        : ['version', String(expected.expectedVersion)];
    const reply = await guard('users.updatePassword', () =>
      evalScript(
        this.redis,
        SCRIPTS['update-password'],
        [this.userKey(id)],
        [mode, value, passwordHash, write.changedAt, write.bumpVersion ? '1' : '0'],
      ),
    );
    return version(reply);
  }

  async disable(id: string): Promise<number | null> {
    const reply = await guard('users.disable', () =>
      evalScript(this.redis, SCRIPTS['disable-user'], [this.userKey(id)], []),
    );
    return version(reply);
  }

  async delete(id: string): Promise<number | null> {
    const reply = await guard('users.delete', () =>
      evalScript(this.redis, SCRIPTS['delete-user'], [this.userKey(id)], []),
    );
    if (!Array.isArray(reply)) return null;
    const [credentialVersion, email] = reply as [number, string];
    // Free the address only if it still names this user. Nobody can claim it in between: SET NX
    // fails while the key exists.
    const key = this.emailKey(email);
    if (email && (await guard('users.delete', () => this.redis.get(key))) === id)
      await guard('users.delete', () => this.redis.del(key));
    return Number(credentialVersion);
  }

  async markEmailVerified(id: string): Promise<void> {
    await this.updateExisting(id, { v: '1' });
  }

  async findByIdentity(provider: IdentityProvider, subject: string): Promise<User | null> {
    const id = await guard('users.findByIdentity', () =>
      this.redis.get(this.identityKey(provider, subject)),
    );
    return id ? this.findById(id) : null;
  }

  async linkIdentity(
    provider: IdentityProvider,
    subject: string,
    userId: string,
  ): Promise<boolean> {
    const key = this.identityKey(provider, subject);
    const set = await guard('users.linkIdentity', () => this.redis.set(key, userId, 'NX'));
    if (set === 'OK') return true;
    return (await guard('users.linkIdentity', () => this.redis.get(key))) === userId;
  }

  /** HSET only if the record exists (one key, so one atomic script): never recreates a user. */
  private async updateExisting(id: string, fields: Record<string, string>): Promise<void> {
    const args = Object.entries(fields).flat();
    await guard('users.update', () =>
      this.redis.eval(
        "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], unpack(ARGV)) end return -1",
        1,
        this.userKey(id),
        ...args,
      ),
    );
  }
}

/** A script's credential version, or null for its negative codes (no such user, not applied). */
function version(reply: unknown): number | null {
  const n = Number(reply);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 32);
}

function encode(u: User): Record<string, string> {
  return {
    id: u.id,
    e: u.email,
    n: u.name,
    ph: u.passwordHash ?? '',
    v: u.emailVerified ? '1' : '0',
    c: String(u.createdAt),
    pc: u.passwordChangedAt === null ? '' : String(u.passwordChangedAt),
    cv: String(u.credentialVersion),
    d: u.disabled ? '1' : '0',
  };
}

function decode(h: Record<string, string>): User | null {
  if (!h || !h.id || !h.e) return null;
  return {
    id: h.id,
    email: h.e,
    name: h.n ?? '',
    passwordHash: h.ph ? h.ph : null,
    emailVerified: h.v === '1',
    createdAt: Number(h.c),
    passwordChangedAt: h.pc ? Number(h.pc) : null,
    credentialVersion: h.cv ? Number(h.cv) : 0,
    disabled: h.d === '1',
  };
}
