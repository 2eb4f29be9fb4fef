/**
 * AccountService rules that no HTTP route reaches yet: linkVerified (the merge a future
 * verified-email flow performs), the re-authentication window and the race of an OAuth sign-in
 * with a registration of the same address. Real services on the memory store.
 */
import type { AccountService, OAuthProfile } from '../../../src/accounts';
import { createServices } from '../../../src/server/services';
import type { SessionService } from '../../../src/session';
import { MemoryEngine } from '../../../src/store';
import { MemoryUserStore, NewUser, User } from '../../../src/users';
import { testSettings } from '../../support/app';

const PASSWORD = 'correct horse battery';
const client = { ip: '10.1.2.3', userAgent: 'test' };
let seq = 0;
const email = () => `accounts.${process.pid}.${++seq}@example.com`;
const profile = (address: string, id = `gh-${++seq}`): OAuthProfile => ({
  provider: 'github',
  id,
  email: address,
  emailVerified: true,
  label: 'GitHub',
});

function setup(users?: MemoryUserStore) {
  const settings = testSettings();
  const clock = { now: Date.now() };
  const services = createServices(settings, {
    engine: new MemoryEngine(settings.store.redis.shards, () => clock.now),
    users,
    clock: () => clock.now,
  });
  return { ...services, clock, settings };
}

async function squatted(accounts: AccountService, sessions: SessionService) {
  const address = email();
  const reg = await accounts.register({ email: address, password: PASSWORD }, client);
  const login = await accounts.login(
    { email: address, password: PASSWORD, remember: true },
    client,
  );
  expect(login.rememberToken).toBeDefined();
  expect((await sessions.list(reg.user.id)).length).toBe(2);
  return { address, user: reg.user, rememberToken: login.rememberToken! };
}

describe('linkVerified: a link after Holdfast itself proved the address', () => {
  test('an address nobody had proved: the password, every session and remember-me series end; the identity then signs in', async () => {
    const { accounts, sessions, users } = setup();
    const { address, user, rememberToken } = await squatted(accounts, sessions);
    const owner = profile(address);

    const result = await accounts.linkVerified(user.id, owner);
    expect(result).toEqual({ merged: true, endedPassword: true, revokedSessions: 2 });
    expect(await sessions.list(user.id)).toEqual([]);
    expect((await sessions.useRemember(rememberToken, client)).result).toBe('invalid');
    await expect(accounts.login({ email: address, password: PASSWORD }, client)).rejects.toThrow(
      expect.objectContaining({ code: 'HF_LOGIN_FAILED' }),
    );
    const stored = (await users.findById(user.id))!;
    expect(stored.passwordHash).toBeNull();
    expect(stored.emailVerified).toBe(true);
    const signIn = await accounts.oauthLogin(owner, client);
    expect(signIn.user.id).toBe(user.id);
  });

  test('an address already proved: nothing of the account ends', async () => {
    const { accounts, sessions, users } = setup();
    const { address, user } = await squatted(accounts, sessions);
    await users.markEmailVerified(user.id);
    const result = await accounts.linkVerified(user.id, profile(address));
    expect(result).toEqual({ merged: false, endedPassword: false, revokedSessions: 0 });
    expect((await sessions.list(user.id)).length).toBe(2);
    expect((await accounts.login({ email: address, password: PASSWORD }, client)).user.id).toBe(
      user.id,
    );
  });

  test('an identity linked to another user is refused and nothing ends', async () => {
    const { accounts, sessions, users } = setup();
    const a = await squatted(accounts, sessions);
    const b = await squatted(accounts, sessions);
    const identity = profile(a.address);
    await accounts.linkVerified(a.user.id, identity);
    await expect(accounts.linkVerified(b.user.id, identity)).rejects.toThrow(
      expect.objectContaining({ code: 'HF_OAUTH_LINK_CONFLICT' }),
    );
    expect((await users.findById(b.user.id))!.passwordHash).not.toBeNull();
    expect((await sessions.list(b.user.id)).length).toBe(2);
  });
});

describe('OAuth sign-in and an existing address', () => {
  test('a registration of the same address that wins the race is not linked either', async () => {
    const address = email();
    /** A registration lands between the sign-in's look-up and its create (the race, made certain). */
    class RacingStore extends MemoryUserStore {
      raced = false;
      override async create(input: NewUser): Promise<User> {
        if (!this.raced && input.passwordHash === null) {
          this.raced = true;
          await super.create({ email: address, passwordHash: 'squatter-hash' });
        }
        return super.create(input);
      }
    }
    const store = new RacingStore();
    const { accounts, events } = setup(store);
    const failures: string[] = [];
    events.on('loginFailed', (e) => failures.push(e.cause ?? ''));
    await expect(accounts.oauthLogin(profile(address), client)).rejects.toThrow(
      expect.objectContaining({ code: 'HF_OAUTH_LINK_REQUIRED' }),
    );
    expect(store.raced).toBe(true);
    const squatter = (await store.findByEmail(address))!;
    expect(await store.listIdentities(squatter.id)).toEqual([]);
    expect(failures).toEqual(['link_required']);
  });
});

describe('recent authentication (auth.reauthWindow)', () => {
  test('a password or provider sign-in counts up to the window, inclusive; remember-me and rotation never', async () => {
    const { accounts, sessions, settings, clock } = setup();
    const window = settings.auth.reauthWindow;
    const { user } = await accounts.register({ email: email(), password: PASSWORD }, client);
    const issued = await sessions.create(user.id, client, 'password');
    expect(accounts.isRecent(issued.session)).toBe(true);
    expect(accounts.recentUntil(issued.session)).toBe(issued.session.createdAt + window);
    clock.now += window;
    expect(accounts.isRecent(issued.session)).toBe(true);
    clock.now += 1;
    expect(accounts.isRecent(issued.session)).toBe(false);
    expect(accounts.recentUntil(issued.session)).toBeNull();
    expect(() => accounts.requireRecent(issued.session)).toThrow(
      expect.objectContaining({ code: 'HF_REAUTH_REQUIRED' }),
    );
    const oauth = await sessions.create(user.id, client, 'oauth');
    expect(accounts.isRecent(oauth.session)).toBe(true);
    for (const method of ['remember', 'rotation'] as const) {
      const s = await sessions.create(user.id, client, method);
      expect(accounts.isRecent(s.session)).toBe(false);
    }
    // A plain rotation keeps the start and is not an authentication.
    const rotated = await sessions.rotate(oauth.session, client);
    expect(rotated?.session).toMatchObject({
      method: 'rotation',
      createdAt: oauth.session.createdAt,
    });
    expect(accounts.isRecent(rotated!.session)).toBe(false);
  });

  test('re-authentication replaces the session: new id, method password, started now, same absolute deadline', async () => {
    const { accounts, sessions, settings, clock } = setup();
    const reg = await accounts.register({ email: email(), password: PASSWORD }, client);
    clock.now += settings.auth.reauthWindow + 1;
    const old = reg.issued!.session;
    const issued = await accounts.reauthenticate(old, PASSWORD, client);
    expect(issued.session.id).not.toBe(old.id);
    expect(issued.session).toMatchObject({
      method: 'password',
      createdAt: clock.now,
      absoluteExpiresAt: old.absoluteExpiresAt,
    });
    expect(accounts.isRecent(issued.session)).toBe(true);
    expect((await sessions.authenticate(issued.token)).result).toBe('ok');
    expect((await sessions.list(reg.user.id)).map((s) => s.id)).toEqual([issued.session.id]);
  });
});
