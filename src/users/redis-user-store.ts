import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { evalScript, ScriptArg } from '../store/redis/commands';
import { UserReply } from '../store/redis/script-replies';
import { loadScriptDir } from '../store/redis/scripts';
import { normalizeEmail } from './email';
import {
  DurableWrites,
  durableCommand,
  durableScript,
  guard,
  guardRead,
  rereadEmpty,
  guardScript,
  RedisClient,
} from './redis-client';
import {
  IdentityProvider,
  LinkedIdentity,
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
  'enable-user',
  'delete-user',
  'clear-password',
  'claim-identity-field',
  'release-identity-field',
  'release-identity',
  'update-existing',
  'verify-email',
] as const);

/**
 * Users in Redis. Every operation is on one key, so nothing is ever CROSSSLOT in a cluster:
 *
 *   {hf:u:<userId>}            HASH    the user record
 *   {hf:e:<sha256(email)>}     STRING  userId: the unique email index (SET NX)
 *   {hf:o:<sha256(prov:sub)>}  STRING  userId: a linked OAuth identity (SET NX)
 *
 * Record fields: id, e email, n name, ph password hash, v email verified, c created, pc password
 * changed, cv credential version (ADR 040), d disabled, r roles (space-separated; a record
 * written before roles existed has no `r` and reads as no roles, so no format change, ADR 086). A credential write is a compare-and-set
 * script on the record (src/users/lua), so a re-hash never overwrites a newer password.
 *
 * The record also lists its linked identities (field `o:<provider>` = subject, one per
 * provider). A link writes that field first and then claims the identity key; an unlink deletes
 * the key first and then the field: whatever fails in between, no identity signs a user in that
 * the user cannot see and unlink.
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
    /** With store.redis.durability.replicas > 0: changes go here, each followed by WAIT. */
    private readonly durable?: DurableWrites,
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
    await this.command('users.create', 'hset', key, Object.entries(encode(user)).flat(), () =>
      this.redis.hset(key, encode(user)),
    );
    const claimed = await this.command(
      'users.create',
      'set',
      this.emailKey(email),
      [user.id, 'NX'],
      () => this.redis.set(this.emailKey(email), user.id, 'NX'),
    );
    if (claimed !== 'OK') {
      await this.command('users.create', 'del', key, [], () => this.redis.del(key));
      throw new UserExistsError();
    }
    return user;
  }

  async findById(id: string): Promise<User | null> {
    return decode(await this.record(id, 'users.findById'));
  }

  async findByEmail(email: string): Promise<User | null> {
    const normalized = normalizeEmail(email);
    const key = this.emailKey(normalized);
    const id = await guardRead('users.findByEmail', this.redis, 'get', [key], () =>
      this.redis.get(key),
    );
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
    const reply = await this.script(
      'users.updatePassword',
      'update-password',
      [this.userKey(id)],
      [mode, value, passwordHash, write.changedAt, write.bumpVersion ? '1' : '0'],
    );
    return version(reply);
  }

  async disable(id: string): Promise<number | null> {
    const reply = await this.script('users.disable', 'disable-user', [this.userKey(id)], []);
    return version(reply);
  }

  async enable(id: string): Promise<boolean> {
    if (!VALID_ID.test(id)) return false;
    const reply = await this.script('users.enable', 'enable-user', [this.userKey(id)], []);
    return Number(reply) === UserReply.DONE;
  }

  async delete(id: string): Promise<number | null> {
    if (!VALID_ID.test(id)) return null;
    const reply = await this.script('users.delete', 'delete-user', [this.userKey(id)], []);
    if (!Array.isArray(reply)) return null;
    const [credentialVersion, email, ...linked] = reply as [number, string, ...string[]];
    // Free the address only if it still names this user. Nobody can claim it in between: SET NX
    // fails while the key exists.
    const key = this.emailKey(email);
    if (
      email &&
      (await guardRead('users.delete', this.redis, 'get', [key], () => this.redis.get(key))) === id
    )
      await this.command('users.delete', 'del', key, [], () => this.redis.del(key));
    // The record went first: from then on each identity key resolves to no user, and each is
    // released only while it still names this user (never another user's link).
    for (let i = 0; i + 1 < linked.length; i += 2) {
      await this.script(
        'users.delete',
        'release-identity',
        [this.identityKey(linked[i], linked[i + 1])],
        [id],
      );
    }
    return Number(credentialVersion);
  }

  async clearPassword(id: string, changedAt: number): Promise<number | null> {
    const reply = await this.script(
      'users.clearPassword',
      'clear-password',
      [this.userKey(id)],
      [changedAt],
    );
    return version(reply);
  }

  async markEmailVerified(id: string, expected?: { readonly email: string }): Promise<boolean> {
    if (!expected) return this.updateExisting(id, { v: '1' });
    if (!VALID_ID.test(id)) return false;
    const reply = await this.script(
      'users.verifyEmail',
      'verify-email',
      [this.userKey(id)],
      [normalizeEmail(expected.email)],
    );
    return Number(reply) === UserReply.DONE;
  }

  async setRoles(id: string, roles: readonly string[]): Promise<boolean> {
    if (!VALID_ID.test(id)) return false;
    return this.updateExisting(id, { r: roles.join(' ') }, 'users.setRoles');
  }

  async findByIdentity(provider: IdentityProvider, subject: string): Promise<User | null> {
    const key = this.identityKey(provider, subject);
    const id = await guardRead('users.findByIdentity', this.redis, 'get', [key], () =>
      this.redis.get(key),
    );
    if (!id) return null;
    const h = await this.record(id, 'users.findByIdentity');
    const user = decode(h);
    if (!user) return null;
    const field = identityField(provider);
    if (h[field] === undefined) {
      // Linked before records listed their identities: list it now, so the user can see it.
      await this.command('users.findByIdentity', 'hsetnx', this.userKey(id), [field, subject], () =>
        this.redis.hsetnx(this.userKey(id), field, subject),
      );
    } else if (h[field] !== subject) {
      return null; // the record names another account of this provider: this key is stale
    }
    return user;
  }

  async linkIdentity(
    provider: IdentityProvider,
    subject: string,
    userId: string,
  ): Promise<boolean> {
    const field = identityField(provider);
    const userKey = this.userKey(userId);
    const recorded = await this.script(
      'users.linkIdentity',
      'claim-identity-field',
      [userKey],
      [field, subject],
    );
    if (Number(recorded) !== UserReply.DONE) return false;
    const key = this.identityKey(provider, subject);
    const set = await this.command('users.linkIdentity', 'set', key, [userId, 'NX'], () =>
      this.redis.set(key, userId, 'NX'),
    );
    if (set === 'OK') return true;
    const holder = await guardRead('users.linkIdentity', this.redis, 'get', [key], () =>
      this.redis.get(key),
    );
    if (holder === userId) return true;
    // Another user holds this identity: take back what this link recorded.
    await this.script('users.linkIdentity', 'release-identity-field', [userKey], [field, subject]);
    return false;
  }

  async listIdentities(userId: string): Promise<LinkedIdentity[]> {
    const h = await this.record(userId, 'users.listIdentities');
    return Object.entries(h)
      .filter(([k]) => k.startsWith('o:'))
      .map(([k, subject]) => ({ provider: k.slice(2), subject }));
  }

  async unlinkIdentity(provider: IdentityProvider, userId: string): Promise<boolean> {
    if (!VALID_ID.test(userId)) return false;
    const field = identityField(provider);
    const userKey = this.userKey(userId);
    const subject = await guardRead(
      'users.unlinkIdentity',
      this.redis,
      'hget',
      [userKey, field],
      () => this.redis.hget(userKey, field),
    );
    if (subject === null) return false;
    await this.script(
      'users.unlinkIdentity',
      'release-identity',
      [this.identityKey(provider, subject)],
      [userId],
    );
    await this.script(
      'users.unlinkIdentity',
      'release-identity-field',
      [userKey],
      [field, subject],
    );
    return true;
  }

  /** One of this store's scripts; a script error is HF_STORE_SCRIPT naming it. */
  private script(
    operation: string,
    name: keyof typeof SCRIPTS,
    keys: string[],
    args: ScriptArg[],
  ): Promise<unknown> {
    // Every script here changes the record (reads are plain commands): with durability, WAIT.
    if (this.durable) return durableScript(this.durable, operation, SCRIPTS[name], keys, args);
    return guardScript(operation, name, () => evalScript(this.redis, SCRIPTS[name], keys, args));
  }

  /** A write command: `plain` on the reads client, or with durability the writes client + WAIT. */
  private command<T>(
    operation: string,
    command: string,
    key: string,
    args: ScriptArg[],
    plain: () => Promise<T>,
  ): Promise<unknown> {
    if (this.durable) return durableCommand(this.durable, operation, command, key, args);
    return guard(operation, plain);
  }

  /** The raw record (empty when there is none or the id is malformed). */
  private async record(id: string, operation: string): Promise<Record<string, string>> {
    if (!VALID_ID.test(id)) return {};
    const key = this.userKey(id);
    const fallback = this.durable?.readRecord;
    if (!fallback) {
      return guardRead(operation, this.redis, 'hgetall', [key], () => this.redis.hgetall(key));
    }
    return fallback(
      key,
      operation,
      rereadEmpty(this.redis, 'hgetall', [key], () => this.redis.hgetall(key)),
    );
  }

  /**
   * HSET only if the record exists (one key, so one atomic script): never recreates a user.
   * False when there was no record.
   */
  private async updateExisting(
    id: string,
    fields: Record<string, string>,
    operation = 'users.update',
  ): Promise<boolean> {
    const reply = await this.script(
      operation,
      'update-existing',
      [this.userKey(id)],
      Object.entries(fields).flat(),
    );
    return Number(reply) === UserReply.DONE;
  }
}

/**
 * A script's credential version, or null for its negative codes (UserReply.NO_SUCH_USER,
 * UserReply.CHANGED_MEANWHILE): a version is never negative.
 */
function version(reply: unknown): number | null {
  const n = Number(reply);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

const VALID_ID = /^[A-Za-z0-9_-]{1,64}$/;

function identityField(provider: string): string {
  return `o:${provider}`;
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
    r: u.roles.join(' '),
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
    roles: h.r ? h.r.split(' ') : [],
  };
}
