/**
 * AccountService outcomes that no other test pins down: the exact messages a user or an operator
 * reads, the audit events' fields, the refusals of unusual inputs, and the OAuth linking branches
 * (unlink, link conflicts, a disabled linked account, a parallel first sign-in). Real services on
 * the memory store. Interleavings go through the host app's own extension points (hooks, the breach
 * lookup), so a change elsewhere lands at a known step; store faults through `instrument`.
 */
import type { OAuthProfile } from '../../../src/accounts';
import { StoreUnavailableError } from '../../../src/errors';
import { createServices, ServicesOptions } from '../../../src/server/services';
import type { ClientInfo } from '../../../src/session';
import type { StoredSession } from '../../../src/store/engine';
import type { SessionEngine } from '../../../src/store/engine';
import { MemoryEngine } from '../../../src/store';
import { MAX_EMAIL_LENGTH, MemoryUserStore, NewUser, User } from '../../../src/users';
import { testSettings } from '../../support/app';

const PASSWORD = 'correct horse battery';
const client: ClientInfo = { ip: '10.9.8.7', userAgent: 'outcomes' };
let seq = 0;
const email = () => `outcomes.${process.pid}.${++seq}@example.com`;
const github = (address?: string, id = `gh-${++seq}`): OAuthProfile => ({
  provider: 'github',
  id,
  email: address ?? email(),
  emailVerified: true,
  label: 'GitHub',
});
const google = (address?: string): OAuthProfile => ({
  provider: 'google',
  id: `go-${++seq}`,
  email: address ?? email(),
  emailVerified: true,
  label: 'Google',
});

function setup(options: ServicesOptions = {}, overrides: object = {}) {
  const settings = testSettings(overrides);
  const clock = { now: Date.now() };
  const services = createServices(settings, {
    engine: new MemoryEngine(settings.store.redis.shards, () => clock.now),
    clock: () => clock.now,
    ...options,
  });
  /** Every audit event, in order, with its name. */
  const seen: Array<[string, unknown]> = [];
  for (const name of [
    'login',
    'loginFailed',
    'revoked',
    'identityLinked',
    'reauthenticated',
  ] as const) {
    services.events.on(name, (e: unknown) => seen.push([name, e]));
  }
  const events = (name: string) => seen.filter(([n]) => n === name).map(([, e]) => e);
  return { ...services, clock, settings, events };
}

/** The rejection of `p` (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected a rejection');
  return err;
}

describe('input refusals and their messages', () => {
  test('checkPassword names the field `password` unless told another', async () => {
    const { accounts } = setup();
    const err = await rejection(accounts.checkPassword('short'));
    expect(err.message).toBe('password: must be at least 8 characters');
  });

  test('an email that is not text is refused as such', async () => {
    const { accounts } = setup();
    const err = await rejection(accounts.register({ email: 42, password: PASSWORD }, client));
    expect(err).toMatchObject({ code: 'HF_USER_INVALID', message: 'email: must be text' });
  });

  test('an email of exactly 254 characters is accepted; one more is refused for its length', () => {
    const { accounts } = setup();
    const domain = `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    const longest = `${'a'.repeat(64)}@${domain}`;
    expect(longest).toHaveLength(MAX_EMAIL_LENGTH);
    expect(accounts.checkEmail(longest)).toBe(longest);
    expect(() => accounts.checkEmail(`a${longest}`)).toThrow(
      'email: must be at most 254 characters',
    );
  });

  test('the name is trimmed and cut to 100 characters; no name is the empty name', async () => {
    const { accounts } = setup();
    const long = await accounts.createUser({
      email: email(),
      password: PASSWORD,
      name: `  ${'n'.repeat(150)}  `,
    });
    expect(long.name).toBe('n'.repeat(100));
    const none = await accounts.createUser({ email: email(), password: PASSWORD });
    expect(none.name).toBe('');
  });

  test('a role name too long is quoted in the message cut to 40 characters', async () => {
    const { accounts } = setup();
    const user = await accounts.createUser({ email: email(), password: PASSWORD });
    const err = await rejection(accounts.setRoles(user.id, ['r'.repeat(100)]));
    expect(err.message).toBe(
      `roles: "${'r'.repeat(39)} is not a role name: 1 to 32 of a-z, 0-9, _ . : - starting with a letter or digit`,
    );
  });

  test('disabling or deleting a user that does not exist answers false', async () => {
    const { accounts } = setup();
    expect(await accounts.disableUser('no-such-user')).toBe(false);
    expect(await accounts.deleteUser('no-such-user')).toBe(false);
  });
});

describe('password sign-in', () => {
  test('the login events say whether remember-me was asked for; a registration never asks', async () => {
    const { accounts, events } = setup();
    const address = email();
    const reg = await accounts.register({ email: address, password: PASSWORD }, client);
    const plain = await accounts.login({ email: address, password: PASSWORD }, client);
    const remembered = await accounts.login(
      { email: address, password: PASSWORD, remember: true },
      client,
    );
    const base = { userId: reg.user.id, method: 'password', ip: client.ip };
    expect(events('login')).toEqual([
      { ...base, sessionId: reg.issued!.session.id, remember: false },
      { ...base, sessionId: plain.issued.session.id, remember: false },
      { ...base, sessionId: remembered.issued.session.id, remember: true },
    ]);
  });

  test('an unknown email costs one verification, like a wrong password', async () => {
    const { accounts, hashing } = setup();
    const address = email();
    await accounts.createUser({ email: address, password: PASSWORD });
    const verifications = () => hashing.stats.started.verify;
    const before = verifications();
    await rejection(accounts.login({ email: email(), password: PASSWORD }, client));
    expect(verifications()).toBe(before + 1);
    await rejection(accounts.login({ email: address, password: 'wrong password!' }, client));
    expect(verifications()).toBe(before + 2);
  });

  test('a hash made at another cost is re-hashed at the current cost on login', async () => {
    const users = new MemoryUserStore();
    const cheap = setup({ users });
    const address = email();
    const user = await cheap.accounts.createUser({ email: address, password: PASSWORD });
    const ln = Math.log2(cheap.settings.password.cost);
    expect(user.passwordHash).toMatch(new RegExp(`^\\$scrypt\\$ln=${ln},`));
    const dearer = setup({ users }, { password: { cost: cheap.settings.password.cost * 2 } });
    await dearer.accounts.login({ email: address, password: PASSWORD }, client);
    const stored = (await users.findById(user.id))!;
    expect(stored.passwordHash).toMatch(new RegExp(`^\\$scrypt\\$ln=${ln + 1},`));
    expect(stored.credentialVersion).toBe(user.credentialVersion);
    expect(
      (await dearer.accounts.login({ email: address, password: PASSWORD }, client)).user.id,
    ).toBe(user.id);
  });

  test('credentials changed during the sign-in: counted as credentials_changed, no session', async () => {
    let disable: (() => Promise<unknown>) | undefined = undefined;
    const s = setup({
      hooks: {
        // The host's hook runs after the password was verified and before the session is made.
        beforeLogin: async () => {
          await disable?.();
        },
      },
    });
    const address = email();
    const user = await s.accounts.createUser({ email: address, password: PASSWORD });
    disable = () => s.accounts.disableUser(user.id);
    const err = await rejection(s.accounts.login({ email: address, password: PASSWORD }, client));
    expect(err.code).toBe('HF_CREDENTIALS_CHANGED');
    expect(s.events('loginFailed')).toEqual([{ reason: 'credentials_changed', ip: client.ip }]);
    expect(await s.sessions.list(user.id)).toEqual([]);
  });

  test('a store failure while making the session is an outage, not a credentials change', async () => {
    let failNext = false;
    const s = setup({
      instrument: (engine) =>
        new Proxy(engine, {
          get(target, prop) {
            if (prop === 'create' && failNext) {
              failNext = false;
              return async () => {
                throw new StoreUnavailableError('create', new Error('connection closed'));
              };
            }
            const v = Reflect.get(target, prop) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        }) as SessionEngine,
    });
    const address = email();
    await s.accounts.createUser({ email: address, password: PASSWORD });
    failNext = true;
    const err = await rejection(s.accounts.login({ email: address, password: PASSWORD }, client));
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(s.events('loginFailed')).toEqual([]);
    expect(s.accounts.events.stats.loginFailures.credentials_changed).toBe(0);
  });
});

describe('sessions and password change', () => {
  test('revokeOne: the revoked event names the session; an unknown id is false and says nothing', async () => {
    const s = setup();
    const address = email();
    const a = await s.accounts.register({ email: address, password: PASSWORD }, client);
    const b = await s.accounts.login({ email: address, password: PASSWORD }, client);
    expect(await s.accounts.revokeOne(a.issued!.session, b.issued!.session.id)).toBe(true);
    expect(await s.accounts.revokeOne(a.issued!.session, 'no-such-session')).toBe(false);
    expect(s.events('revoked')).toEqual([
      { userId: a.user.id, sessionIds: [b.issued.session.id], scope: 'one' },
    ]);
  });

  test('the current password wrong: the message names the field', async () => {
    const s = setup();
    const { issued } = await s.accounts.register({ email: email(), password: PASSWORD }, client);
    const err = await rejection(
      s.accounts.changePassword(
        issued!.session,
        { currentPassword: 'not the password', newPassword: 'a brand new passphrase' },
        client,
      ),
    );
    expect(err).toMatchObject({
      code: 'HF_PASSWORD_MISMATCH',
      message: 'currentPassword is wrong',
    });
  });

  test('an account without a password accepts no current password at all', async () => {
    const s = setup();
    const { issued } = await s.accounts.oauthLogin(github(), client);
    for (const currentPassword of ['', PASSWORD, 'anything at all']) {
      const err = await rejection(
        s.accounts.changePassword(
          issued.session,
          { currentPassword, newPassword: 'a brand new passphrase' },
          client,
        ),
      );
      expect(err).toMatchObject({
        code: 'HF_PASSWORD_MISMATCH',
        message: 'currentPassword is wrong',
      });
    }
  });

  test('a session whose user was disabled meanwhile cannot change the password', async () => {
    const s = setup();
    const { issued, user } = await s.accounts.register(
      { email: email(), password: PASSWORD },
      client,
    );
    await s.accounts.disableUser(user.id);
    const err = await rejection(
      s.accounts.changePassword(
        issued!.session,
        { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' },
        client,
      ),
    );
    expect(err).toMatchObject({
      code: 'HF_ACCOUNT_DISABLED',
      message: 'this account is disabled: ask the site administrators',
    });
  });

  test('credentials changed elsewhere while the change ran: refused with what to do', async () => {
    let during: (() => Promise<unknown>) | undefined;
    const s = setup({
      // The breach lookup runs between the check of the current password and the write.
      breachedPassword: async () => {
        const run = during;
        during = undefined;
        await run?.();
        return [];
      },
    });
    const { issued, user } = await s.accounts.register(
      { email: email(), password: PASSWORD },
      client,
    );
    during = () => s.accounts.disableUser(user.id);
    const err = await rejection(
      s.accounts.changePassword(
        issued!.session,
        { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' },
        client,
      ),
    );
    expect(err).toMatchObject({
      code: 'HF_CREDENTIALS_CHANGED',
      message:
        'the password was changed elsewhere (or the account disabled) while this change ran: sign in again with the current password',
    });
  });

  test('a session that ended before the change completed gets no new one', async () => {
    const s = setup();
    const { issued } = await s.accounts.register({ email: email(), password: PASSWORD }, client);
    await s.accounts.logout(issued!.session, undefined);
    const err = await rejection(
      s.accounts.changePassword(
        issued!.session,
        { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' },
        client,
      ),
    );
    expect(err).toMatchObject({
      code: 'HF_UNAUTHENTICATED',
      message: 'this session ended while the password changed: log in again',
    });
  });

  test('re-authentication: a deleted user, or a session ended meanwhile, is told so', async () => {
    const s = setup();
    const a = await s.accounts.register({ email: email(), password: PASSWORD }, client);
    await s.accounts.logout(a.issued!.session, undefined);
    expect(
      await rejection(s.accounts.reauthenticate(a.issued!.session, PASSWORD, client)),
    ).toMatchObject({
      code: 'HF_UNAUTHENTICATED',
      message: 'this session ended meanwhile: log in again',
    });
    const b = await s.accounts.register({ email: email(), password: PASSWORD }, client);
    await s.accounts.deleteUser(b.user.id);
    expect(
      await rejection(s.accounts.reauthenticate(b.issued!.session, PASSWORD, client)),
    ).toMatchObject({
      code: 'HF_UNAUTHENTICATED',
      message: 'the account of this session no longer exists',
    });
  });
});

/** A user store whose next create fails like a store outage (a host app's store can). */
class FlakyUserStore extends MemoryUserStore {
  failNext = false;
  override async create(input: NewUser): Promise<User> {
    if (this.failNext) {
      this.failNext = false;
      throw new StoreUnavailableError('create user', new Error('connection closed'));
    }
    return super.create(input);
  }
}

describe('OAuth sign-in', () => {
  test('an unverified email creates nothing and says what to do', async () => {
    const s = setup();
    const p = { ...github(), emailVerified: false };
    const err = await rejection(s.accounts.oauthLogin(p, client));
    expect(err).toMatchObject({
      code: 'HF_OAUTH_FAILED',
      message:
        'GitHub gave no verified email address for this account: verify your address with GitHub, then sign in again',
    });
    expect(await s.users.findByEmail(p.email!)).toBeNull();
    expect(s.events('loginFailed')).toEqual([
      { reason: 'oauth', ip: client.ip, provider: 'github', cause: 'unverified_email' },
    ]);
  });

  test('no email at all, even from a provider that says verified: the same refusal', async () => {
    const s = setup();
    const p = { ...github(), email: undefined };
    const err = await rejection(s.accounts.oauthLogin(p, client));
    expect(err).toMatchObject({
      code: 'HF_OAUTH_FAILED',
      message:
        'GitHub gave no verified email address for this account: verify your address with GitHub, then sign in again',
    });
  });

  test('the address of an existing account: link required, and no registration is even tried', async () => {
    const registrations: string[] = [];
    const s = setup({ hooks: { beforeRegister: ({ email: e }) => void registrations.push(e) } });
    const taken = email();
    await s.accounts.createUser({ email: taken, password: PASSWORD });
    expect(registrations).toEqual([taken]);
    const err = await rejection(s.accounts.oauthLogin(github(taken), client));
    expect(err.code).toBe('HF_OAUTH_LINK_REQUIRED');
    expect(registrations).toEqual([taken]);
  });

  test('a store failure while creating the account is an outage, not "link required"', async () => {
    const users = new FlakyUserStore();
    const s = setup({ users });
    users.failNext = true;
    const err = await rejection(s.accounts.oauthLogin(github(), client));
    expect(err).toBeInstanceOf(StoreUnavailableError);
  });

  test('a parallel first sign-in that linked the provider account first: its user signs in', async () => {
    let parallel: (() => Promise<unknown>) | undefined;
    const s = setup({
      hooks: {
        beforeRegister: async () => {
          const run = parallel;
          parallel = undefined;
          await run?.();
        },
      },
    });
    const first = github();
    const other = { ...first, email: email() };
    let winner: User | undefined;
    parallel = async () => {
      winner = (await s.accounts.oauthLogin(other, client)).user;
    };
    const result = await s.accounts.oauthLogin(first, client);
    expect(winner).toBeDefined();
    expect(result.user.id).toBe(winner!.id);
    expect(result.user.email).toBe(other.email);
    expect(result.issued.session.userId).toBe(winner!.id);
  });

  test('a linked account that is disabled does not sign in, and the failure names the provider', async () => {
    const s = setup();
    const p = github();
    const { user } = await s.accounts.oauthLogin(p, client);
    await s.accounts.disableUser(user.id);
    const err = await rejection(s.accounts.oauthLogin(p, client));
    expect(err).toMatchObject({ code: 'HF_ACCOUNT_DISABLED' });
    expect(s.events('loginFailed')).toEqual([
      { reason: 'disabled', ip: client.ip, provider: 'github' },
    ]);
    expect(await s.sessions.list(user.id)).toEqual([]);
  });

  test('the login event of an OAuth sign-in: method oauth, the provider, no remember-me', async () => {
    const s = setup();
    const { user, issued } = await s.accounts.oauthLogin(github(), client);
    expect(s.events('login')).toEqual([
      {
        userId: user.id,
        sessionId: issued.session.id,
        method: 'oauth',
        remember: false,
        ip: client.ip,
        provider: 'github',
      },
    ]);
  });
});

describe('linking, unlinking and re-authentication with a provider', () => {
  async function oauthUser() {
    const s = setup();
    const gh = github();
    const signIn = await s.accounts.oauthLogin(gh, client);
    return { s, gh, user: signIn.user, session: signIn.issued.session as StoredSession };
  }

  test('re-authentication with a provider account that is not linked names the provider', async () => {
    const { s, session } = await oauthUser();
    const err = await rejection(s.accounts.reauthenticateOAuth(session, github(), client));
    expect(err).toMatchObject({
      code: 'HF_OAUTH_NOT_LINKED',
      message:
        'this GitHub account is not linked to yours: confirm with the one you linked, or with your password',
    });
  });

  test('re-authentication with the linked provider: the event names it', async () => {
    const { s, gh, user, session } = await oauthUser();
    const issued = await s.accounts.reauthenticateOAuth(session, gh, client);
    expect(s.events('reauthenticated')).toEqual([
      {
        userId: user.id,
        sessionId: issued.session.id,
        method: 'oauth',
        ip: client.ip,
        provider: 'github',
      },
    ]);
  });

  test('checkCanLink: another provider may be linked, the same one not twice', async () => {
    const { s, session } = await oauthUser();
    await expect(s.accounts.checkCanLink(session, 'google', 'Google')).resolves.toBeUndefined();
    const err = await rejection(s.accounts.checkCanLink(session, 'github', 'GitHub'));
    expect(err).toMatchObject({
      code: 'HF_OAUTH_LINK_CONFLICT',
      message: 'a GitHub account is already linked to yours: unlink it first to link another one',
    });
  });

  test('linkIdentity: a new provider is linked (true, one event); the same account again is false', async () => {
    const { s, gh, user, session } = await oauthUser();
    const go = google();
    expect(await s.accounts.linkIdentity(session, go)).toBe(true);
    expect(await s.accounts.linkIdentity(session, gh)).toBe(false);
    expect(s.events('identityLinked')).toEqual([
      {
        userId: user.id,
        provider: 'google',
        label: 'Google',
        merged: false,
        endedPassword: false,
        revokedSessions: 0,
      },
    ]);
    expect((await s.accounts.identities(user.id)).map((i) => i.provider).sort()).toEqual([
      'github',
      'google',
    ]);
  });

  test('linkIdentity: a second account of a provider already linked is refused', async () => {
    const { s, user, session } = await oauthUser();
    const err = await rejection(s.accounts.linkIdentity(session, github()));
    expect(err).toMatchObject({
      code: 'HF_OAUTH_LINK_CONFLICT',
      message: 'a GitHub account is already linked to yours: unlink it first to link another one',
    });
    expect((await s.accounts.identities(user.id)).length).toBe(1);
  });

  test('unlink: a provider not linked is named; the last way to sign in stays; another may go', async () => {
    const { s, user, session } = await oauthUser();
    expect(await rejection(s.accounts.unlinkIdentity(session, 'google', 'Google'))).toMatchObject({
      code: 'HF_OAUTH_NOT_LINKED',
      message: 'no Google account is linked to yours',
    });
    await s.accounts.linkIdentity(session, google());
    // Two providers and no password: one of them may go...
    await s.accounts.unlinkIdentity(session, 'google', 'Google');
    // ...but not the last one.
    expect(await rejection(s.accounts.unlinkIdentity(session, 'github', 'GitHub'))).toMatchObject({
      code: 'HF_OAUTH_LAST_METHOD',
      message:
        'GitHub is the only way to sign in to this account: link another provider before unlinking it',
    });
    expect((await s.accounts.identities(user.id)).map((i) => i.provider)).toEqual(['github']);
  });
});

describe('linkVerified', () => {
  test('no such user', async () => {
    const s = setup();
    expect(await rejection(s.accounts.linkVerified('no-such-user', github()))).toMatchObject({
      code: 'HF_UNAUTHENTICATED',
      message: 'no such account',
    });
  });

  test('an identity already linked to this same user is no conflict', async () => {
    const s = setup();
    const gh = github();
    const { user } = await s.accounts.oauthLogin(gh, client);
    expect(await s.accounts.linkVerified(user.id, gh)).toEqual({
      merged: false,
      endedPassword: false,
      revokedSessions: 0,
    });
  });

  test('an identity linked to another user: the conflict names the provider', async () => {
    const s = setup();
    const gh = github();
    await s.accounts.oauthLogin(gh, client);
    const other = await s.accounts.createUser({ email: email(), password: PASSWORD });
    expect(await rejection(s.accounts.linkVerified(other.id, gh))).toMatchObject({
      code: 'HF_OAUTH_LINK_CONFLICT',
      message: 'this GitHub account is linked to another account here: unlink it there first',
    });
  });

  test('an unproved address without a password: merged, but no password ended', async () => {
    const s = setup();
    const user = await s.users.create({ email: email(), passwordHash: null });
    expect(user.emailVerified).toBe(false);
    expect(await s.accounts.linkVerified(user.id, github(user.email))).toEqual({
      merged: true,
      endedPassword: false,
      revokedSessions: 0,
    });
  });

  test('a second account of a provider the user already has is refused', async () => {
    const s = setup();
    const { user } = await s.accounts.oauthLogin(github(), client);
    expect(await rejection(s.accounts.linkVerified(user.id, github()))).toMatchObject({
      code: 'HF_OAUTH_LINK_CONFLICT',
      message: 'a GitHub account is already linked to yours: unlink it first to link another one',
    });
  });
});

test('an address without the shape of one is refused with an example of the shape', () => {
  const { accounts } = setup();
  for (const bad of ['ada', 'ada@', '@example.com', 'ada example.com'])
    expect(() => accounts.checkEmail(bad)).toThrow(
      'email: must be an address like name@example.com',
    );
});
