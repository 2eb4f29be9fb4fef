/**
 * The host app's hooks on the account service itself (ADR 120): what each hook is given, that a
 * refusal or a failing before-hook writes nothing, and that a failing after-hook undoes nothing.
 * Real services on the memory store; the API and pages are in test/unit/plugin/hooks.test.ts.
 */
import type { AccountHooks, OAuthProfile } from '../../../src/accounts';
import { HookFailedError } from '../../../src/accounts';
import { createServices } from '../../../src/server/services';
import { MemoryEngine } from '../../../src/store';
import { testSettings } from '../../support/app';

const PASSWORD = 'correct horse battery';
const client = { ip: '10.9.8.7', userAgent: 'test' };
let seq = 0;
const email = () => `hooks.${process.pid}.${++seq}@example.com`;

/** Every hook call, in order, as [name, input]. */
type Calls = Array<[string, unknown]>;

function setup(hooks: AccountHooks = {}) {
  const settings = testSettings();
  return createServices(settings, {
    engine: new MemoryEngine(settings.store.redis.shards),
    hooks,
  });
}

/** Hooks that record their calls, with the given overrides. */
function recording(calls: Calls, over: AccountHooks = {}): AccountHooks {
  const rec =
    (name: string) =>
    async (input: unknown): Promise<undefined> => {
      calls.push([name, input]);
      return undefined;
    };
  return {
    beforeRegister: rec('beforeRegister'),
    afterRegister: rec('afterRegister'),
    beforeLogin: rec('beforeLogin'),
    afterLogin: rec('afterLogin'),
    afterLogout: rec('afterLogout'),
    afterPasswordChange: rec('afterPasswordChange'),
    ...over,
  };
}

const publicOf = (u: { id: string; email: string; name: string }) =>
  expect.objectContaining({ id: u.id, email: u.email, name: u.name });

test('each action calls its hooks with the public user and the client, never a password or hash', async () => {
  const calls: Calls = [];
  const { accounts } = setup(recording(calls));
  const address = email();
  const reg = await accounts.register(
    { email: address.toUpperCase(), password: PASSWORD, name: ' Ada ' },
    client,
  );
  const login = await accounts.login({ email: address, password: PASSWORD }, client);
  const changed = await accounts.changePassword(
    login.issued.session,
    { currentPassword: PASSWORD, newPassword: 'a new password!' },
    client,
  );
  await accounts.logout(changed.session, undefined);
  const admin = await accounts.createUser({ email: email(), password: PASSWORD, name: 'Bo' });

  expect(calls.map(([name]) => name)).toEqual([
    'beforeRegister',
    'afterRegister',
    'beforeLogin',
    'afterLogin',
    'afterPasswordChange',
    'afterLogout',
    'beforeRegister',
    'afterRegister',
  ]);
  const user = reg.user;
  expect(calls[0][1]).toStrictEqual({ email: address, name: 'Ada', method: 'password', client });
  expect(calls[1][1]).toEqual({ user: publicOf(user), method: 'password', client });
  expect(calls[2][1]).toEqual({ user: publicOf(user), method: 'password', client });
  expect(calls[3][1]).toEqual(calls[2][1]);
  expect(calls[4][1]).toEqual({ user: publicOf(user), client });
  expect(calls[5][1]).toStrictEqual({ userId: user.id, sessionId: changed.session.id });
  expect(calls[6][1]).toStrictEqual({
    email: admin.email,
    name: 'Bo',
    method: 'password',
    client: null,
  });
  expect(calls[7][1]).toEqual({ user: publicOf(admin), method: 'password', client: null });
  const seen = JSON.stringify(calls);
  expect(seen).not.toContain(PASSWORD);
  expect(seen).not.toContain('passwordHash');
  expect(seen).not.toContain('$argon2');
});

test('a beforeRegister refusal is HF_REGISTRATION_REFUSED with its message, and nothing is written', async () => {
  const calls: Calls = [];
  const { accounts, users } = setup(
    recording(calls, {
      beforeRegister: ({ email: e }) => ({ refuse: `no ${e.split('@')[1]} please` }),
    }),
  );
  const address = email();
  await expect(accounts.register({ email: address, password: PASSWORD }, client)).rejects.toThrow(
    expect.objectContaining({ code: 'HF_REGISTRATION_REFUSED', message: 'no example.com please' }),
  );
  await expect(accounts.createUser({ email: address, password: PASSWORD })).rejects.toThrow(
    expect.objectContaining({ code: 'HF_REGISTRATION_REFUSED' }),
  );
  expect(await users.findByEmail(address)).toBeNull();
  expect(calls).toEqual([]);
});

test("beforeRegister runs only after Holdfast's own checks: a taken address is 409 without calling it", async () => {
  const calls: Calls = [];
  const { accounts } = setup(recording(calls));
  const address = email();
  await accounts.createUser({ email: address, password: PASSWORD });
  calls.length = 0;
  await expect(
    accounts.register({ email: address.toUpperCase(), password: PASSWORD }, client),
  ).rejects.toThrow(expect.objectContaining({ code: 'HF_USER_EXISTS' }));
  await expect(accounts.register({ email: email(), password: 'short' }, client)).rejects.toThrow(
    expect.objectContaining({ code: 'HF_USER_INVALID' }),
  );
  expect(calls).toEqual([]);
});

test('a throwing beforeRegister is HF_HOOK_FAILED naming the hook, recorded, and leaves no account', async () => {
  const failures: unknown[] = [];
  const { accounts, users, events } = setup({
    beforeRegister: () => {
      throw new Error('billing is down');
    },
  });
  events.on('hookFailed', (e) => failures.push(e));
  const address = email();
  const err = await accounts
    .register({ email: address, password: PASSWORD }, client)
    .catch((e) => e);
  expect(err).toBeInstanceOf(HookFailedError);
  expect(err).toMatchObject({ code: 'HF_HOOK_FAILED', hook: 'beforeRegister' });
  expect(err.message).toBe("the host app's beforeRegister hook failed: billing is down");
  expect(await users.findByEmail(address)).toBeNull();
  expect(failures).toEqual([{ hook: 'beforeRegister', error: new Error('billing is down') }]);
});

test('a before-hook answering something other than nothing or { refuse } fails, not passes', async () => {
  const { accounts, users } = setup({ beforeRegister: () => ({ refuse: '' }) });
  const address = email();
  await expect(accounts.register({ email: address, password: PASSWORD }, client)).rejects.toThrow(
    expect.objectContaining({ code: 'HF_HOOK_FAILED' }),
  );
  expect(await users.findByEmail(address)).toBeNull();
  const odd = setup({ beforeLogin: (() => true) as unknown as AccountHooks['beforeLogin'] });
  const a = await odd.accounts.register({ email: email(), password: PASSWORD }, client);
  await expect(
    odd.accounts.login({ email: a.user.email, password: PASSWORD }, client),
  ).rejects.toThrow(/beforeLogin hook failed: it must answer nothing, or \{ refuse/);
});

test('a throwing afterRegister or afterLogin undoes nothing: the account and session stand, the failure is recorded', async () => {
  const failures: Array<{ hook: string; userId?: string }> = [];
  const boom = () => {
    throw new Error('welcome mail failed');
  };
  const { accounts, users, sessions, events } = setup({
    afterRegister: boom,
    afterLogin: boom,
    afterLogout: boom,
    afterPasswordChange: boom,
  });
  events.on('hookFailed', (e) => failures.push({ hook: e.hook, userId: e.userId }));
  const reg = await accounts.register({ email: email(), password: PASSWORD }, client);
  expect(await users.findById(reg.user.id)).not.toBeNull();
  const login = await accounts.login({ email: reg.user.email, password: PASSWORD }, client);
  const issued = await accounts.changePassword(
    login.issued.session,
    { currentPassword: PASSWORD, newPassword: 'a new password!' },
    client,
  );
  expect((await sessions.list(reg.user.id)).map((s) => s.id)).toEqual([issued.session.id]);
  await accounts.logout(issued.session, undefined);
  expect(await sessions.list(reg.user.id)).toEqual([]);
  const id = reg.user.id;
  expect(failures).toEqual([
    { hook: 'afterRegister', userId: id },
    { hook: 'afterLogin', userId: id },
    { hook: 'afterPasswordChange', userId: id },
    { hook: 'afterLogout', userId: id },
  ]);
});

test('a beforeLogin refusal after the right password: HF_LOGIN_REFUSED, a failed login, no session; a wrong password never reaches it', async () => {
  const seen: string[] = [];
  const { accounts, sessions, events } = setup({
    beforeLogin: ({ user }) => {
      seen.push(user.id);
      return { refuse: 'your subscription has ended: renew it at /billing' };
    },
  });
  const failures: unknown[] = [];
  events.on('loginFailed', (e) => failures.push(e));
  const reg = await accounts.register({ email: email(), password: PASSWORD }, client);
  await expect(
    accounts.login({ email: reg.user.email, password: 'wrong password!' }, client),
  ).rejects.toThrow(expect.objectContaining({ code: 'HF_LOGIN_FAILED' }));
  expect(seen).toEqual([]);
  await expect(
    accounts.login({ email: reg.user.email, password: PASSWORD }, client),
  ).rejects.toThrow(
    expect.objectContaining({
      code: 'HF_LOGIN_REFUSED',
      message: 'your subscription has ended: renew it at /billing',
    }),
  );
  expect(seen).toEqual([reg.user.id]);
  expect(failures).toEqual([
    { reason: 'wrong_password', ip: client.ip },
    { reason: 'refused', ip: client.ip, provider: undefined },
  ]);
  expect(events.stats.loginFailures.refused).toBe(1);
  // Only the registration's session: the refused login made none.
  expect((await sessions.list(reg.user.id)).map((s) => s.id)).toEqual([reg.issued!.session.id]);
});

test('OAuth: a first sign-in runs beforeRegister/afterRegister (not beforeLogin); a later one beforeLogin/afterLogin', async () => {
  const calls: Calls = [];
  const refuse = new Set<string>();
  const { accounts, users, events } = setup(
    recording(calls, {
      beforeRegister: async (input) => {
        calls.push(['beforeRegister', input]);
        return refuse.has(input.email) ? { refuse: 'invitation only' } : undefined;
      },
      beforeLogin: async (input) => {
        calls.push(['beforeLogin', input]);
        return { refuse: 'banned' };
      },
    }),
  );
  const failures: unknown[] = [];
  events.on('loginFailed', (e) => failures.push(e));
  const address = email();
  const profile: OAuthProfile = {
    provider: 'github',
    id: `gh-${seq}`,
    email: address,
    emailVerified: true,
    name: ' Grace ',
  };
  const first = await accounts.oauthLogin(profile, client);
  expect(calls).toEqual([
    [
      'beforeRegister',
      { email: address, name: 'Grace', method: 'oauth', provider: 'github', client },
    ],
    ['afterRegister', { user: publicOf(first.user), method: 'oauth', provider: 'github', client }],
  ]);
  calls.length = 0;
  await expect(accounts.oauthLogin(profile, client)).rejects.toThrow(
    expect.objectContaining({ code: 'HF_LOGIN_REFUSED', message: 'banned' }),
  );
  expect(calls).toEqual([
    ['beforeLogin', { user: publicOf(first.user), method: 'oauth', provider: 'github', client }],
  ]);
  expect(failures).toEqual([{ reason: 'refused', ip: client.ip, provider: 'github' }]);

  const refused = email();
  refuse.add(refused);
  await expect(
    accounts.oauthLogin({ ...profile, id: `gh-other-${seq}`, email: refused }, client),
  ).rejects.toThrow(
    expect.objectContaining({ code: 'HF_REGISTRATION_REFUSED', message: 'invitation only' }),
  );
  expect(await users.findByEmail(refused)).toBeNull();
});

test('OAuth: a later sign-in that passes beforeLogin runs afterLogin', async () => {
  const calls: Calls = [];
  const { accounts } = setup(recording(calls));
  const profile: OAuthProfile = {
    provider: 'github',
    id: `gh-${++seq}`,
    email: email(),
    emailVerified: true,
  };
  await accounts.oauthLogin(profile, client);
  calls.length = 0;
  const again = await accounts.oauthLogin(profile, client);
  expect(calls.map(([n]) => n)).toEqual(['beforeLogin', 'afterLogin']);
  expect(calls[1][1]).toEqual({
    user: publicOf(again.user),
    method: 'oauth',
    provider: 'github',
    client,
  });
});

test('a hook that throws something other than an Error is named in the message all the same', async () => {
  const { accounts } = setup({
    beforeRegister: () => {
      throw 'nope'; // what a careless hook does
    },
  });
  await expect(accounts.register({ email: email(), password: PASSWORD }, client)).rejects.toThrow(
    "the host app's beforeRegister hook failed: it threw a string, not an Error",
  );
});

test('OAuth: beforeRegister gets the name as it will be stored (trimmed, at most 100 characters, empty when none)', async () => {
  const names: string[] = [];
  const { accounts } = setup({
    beforeRegister: ({ name }) => {
      names.push(name);
      return undefined;
    },
  });
  const long = await accounts.oauthLogin(
    {
      provider: 'github',
      id: `gh-${++seq}`,
      email: email(),
      emailVerified: true,
      name: ` ${'n'.repeat(150)} `,
    },
    client,
  );
  await accounts.oauthLogin(
    { provider: 'github', id: `gh-${++seq}`, email: email(), emailVerified: true },
    client,
  );
  expect(names).toEqual(['n'.repeat(100), '']);
  expect(long.user.name).toBe('n'.repeat(100));
});

test('hooks with an unknown name or a non-function are refused when the services are built', () => {
  expect(() => setup({ beforeSignup: async () => undefined } as AccountHooks)).toThrow(
    expect.objectContaining({
      code: 'HF_HOOKS_INVALID',
      message: expect.stringContaining('hooks.beforeSignup is not a hook'),
    }),
  );
  expect(() => setup({ afterLogin: 'yes' } as unknown as AccountHooks)).toThrow(
    'hooks.afterLogin must be a function',
  );
});
