/**
 * The account rules email verification adds (ADR 145, 146), on real services over the memory
 * store with mail going to a real SMTP server on loopback: registration and login under
 * accounts.requireVerifiedEmail, and the provider sign-in that links an account whose address
 * Holdfast proved. The HTTP side is test/integration/plugin/email-verification-suite.ts.
 */
import type { AccountHooks, OAuthProfile } from '../../../src/accounts';
import { ConfigError } from '../../../src/errors';
import { createServices } from '../../../src/server/services';
import { MemoryEngine } from '../../../src/store';
import { linkIn, startSmtpServer, TestSmtpServer } from '../../support/smtp-server';
import { testSettings } from '../../support/app';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a new password!';
const client = { ip: '10.9.8.7', userAgent: 'test' };
let seq = 0;
const email = () => `verify.unit.${process.pid}.${++seq}@example.com`;
const profile = (address: string | undefined, id = `gh-${++seq}`): OAuthProfile => ({
  provider: 'github',
  id,
  email: address,
  emailVerified: true,
  label: 'GitHub',
});

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await smtp?.stop();
});

type Calls = Array<[string, unknown]>;
function recording(calls: Calls, over: AccountHooks = {}): AccountHooks {
  const rec = (name: string) => async (input: unknown) => {
    calls.push([name, input]);
    return undefined;
  };
  return {
    afterRegister: rec('afterRegister'),
    beforeLogin: rec('beforeLogin'),
    afterLogin: rec('afterLogin'),
    ...over,
  };
}

function setup(requireVerifiedEmail: boolean, hooks: AccountHooks = {}) {
  const settings = testSettings({
    mail: smtp.mailSettings('https://app.example.com'),
    accounts: { requireVerifiedEmail },
  });
  return createServices(settings, {
    engine: new MemoryEngine(settings.store.redis.shards),
    hooks,
  });
}

/** Registers with a password and follows the mailed link. */
async function verifiedAccount(s: ReturnType<typeof setup>) {
  const address = email();
  const { user } = await s.accounts.register({ email: address, password: PASSWORD }, client);
  const token = linkIn(await smtp.nextTo(address), '/verify-email').searchParams.get('token');
  await s.verification!.verify(token);
  return { address, user };
}

describe('accounts.requireVerifiedEmail', () => {
  test('needs mail: without a mailer createServices refuses, naming the setting', () => {
    const settings = testSettings({ accounts: { requireVerifiedEmail: true } });
    expect(() =>
      createServices(settings, { engine: new MemoryEngine(settings.store.redis.shards) }),
    ).toThrow(ConfigError);
    try {
      createServices(settings, { engine: new MemoryEngine(settings.store.redis.shards) });
    } catch (err) {
      expect((err as ConfigError).problems[0]).toMatchObject({
        path: 'accounts.requireVerifiedEmail',
      });
    }
    // Off (the default) it needs nothing.
    const off = testSettings();
    expect(off.accounts.requireVerifiedEmail).toBe(false);
    expect(
      createServices(off, { engine: new MemoryEngine(off.store.redis.shards) }).verification,
    ).toBeNull();
  });

  test('registration: the account and its message, no session, the browser keeps the one it had; afterRegister runs', async () => {
    const calls: Calls = [];
    const s = setup(true, recording(calls));
    const other = await verifiedAccount(s);
    const had = await s.accounts.login({ email: other.address, password: PASSWORD }, client);
    calls.length = 0;
    const address = email();
    const reg = await s.accounts.register(
      { email: address, password: PASSWORD },
      client,
      had.issued.session,
    );
    expect(reg.issued).toBeNull();
    expect(reg.user).toMatchObject({ email: address, emailVerified: false });
    expect(await s.sessions.list(reg.user.id)).toEqual([]);
    expect((await s.sessions.list(other.user.id)).map((x) => x.id)).toContain(
      had.issued.session.id,
    );
    expect(calls).toEqual([
      [
        'afterRegister',
        expect.objectContaining({
          method: 'password',
          client,
          user: expect.objectContaining({ id: reg.user.id }),
        }),
      ],
    ]);
    expect((await smtp.nextTo(address)).kind).toBe('verify');
  });

  test('login: HF_EMAIL_UNVERIFIED only after the right password (counted as unverified); a wrong one is HF_LOGIN_FAILED; disabled wins; verified signs in', async () => {
    const s = setup(true);
    const address = email();
    const { user } = await s.accounts.register({ email: address, password: PASSWORD }, client);
    const token = linkIn(await smtp.nextTo(address), '/verify-email').searchParams.get('token');
    const failures: unknown[] = [];
    s.events.on('loginFailed', (e) => failures.push(e));
    await expect(s.accounts.login({ email: address, password: PASSWORD }, client)).rejects.toThrow(
      expect.objectContaining({ code: 'HF_EMAIL_UNVERIFIED' }),
    );
    expect(failures).toEqual([{ reason: 'unverified', ip: client.ip }]);
    await expect(
      s.accounts.login({ email: address, password: 'wrong password!' }, client),
    ).rejects.toThrow(expect.objectContaining({ code: 'HF_LOGIN_FAILED' }));
    expect(await s.sessions.list(user.id)).toEqual([]);

    await s.verification!.verify(token);
    const ok = await s.accounts.login({ email: address, password: PASSWORD }, client);
    expect(ok.user.id).toBe(user.id);

    // An unverified, disabled account is told it is disabled.
    const b = email();
    const regB = await s.accounts.register({ email: b, password: PASSWORD }, client);
    await s.accounts.disableUser(regB.user.id);
    await expect(s.accounts.login({ email: b, password: PASSWORD }, client)).rejects.toThrow(
      expect.objectContaining({ code: 'HF_ACCOUNT_DISABLED' }),
    );
  });

  test('off (the default): an unverified account registers with a session and signs in', async () => {
    const s = setup(false);
    const address = email();
    const reg = await s.accounts.register({ email: address, password: PASSWORD }, client);
    expect(reg.issued).not.toBeNull();
    expect(reg.user.emailVerified).toBe(false);
    const login = await s.accounts.login({ email: address, password: PASSWORD }, client);
    expect(login.user.id).toBe(reg.user.id);
    await smtp.nextTo(address);
  });
});

describe('oauthLogin: a provider sign-in with the address of an account that has no link to it', () => {
  test('Holdfast proved the address of this password account: linked (automatic), signed in with method oauth, the old session ends, afterLogin runs', async () => {
    const calls: Calls = [];
    const s = setup(false, recording(calls));
    const { address, user } = await verifiedAccount(s);
    // A password change raises the credential version to 1: the provider session is made under it.
    const first = await s.accounts.login({ email: address, password: PASSWORD }, client);
    await s.accounts.changePassword(
      first.issued.session,
      { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      client,
    );
    const before = await s.accounts.login({ email: address, password: NEW_PASSWORD }, client);
    const linked: unknown[] = [];
    const logins: unknown[] = [];
    s.events.on('identityLinked', (e) => linked.push(e));
    s.events.on('login', (e) => logins.push(e));
    calls.length = 0;
    const p = profile(address.toUpperCase());
    const result = await s.accounts.oauthLogin(p, client, before.issued.session);
    expect(result.user.id).toBe(user.id);
    expect(result.issued.session).toMatchObject({
      userId: user.id,
      method: 'oauth',
      credentialVersion: 1,
    });
    expect((await s.users.findByIdentity('github', p.id))?.id).toBe(user.id);
    expect(linked).toEqual([
      {
        userId: user.id,
        provider: 'github',
        label: 'GitHub',
        merged: false,
        endedPassword: false,
        revokedSessions: 0,
        automatic: true,
      },
    ]);
    expect(logins).toEqual([
      {
        userId: user.id,
        sessionId: result.issued.session.id,
        method: 'oauth',
        remember: false,
        ip: client.ip,
        provider: 'github',
      },
    ]);
    const live = (await s.sessions.list(user.id)).map((x) => x.id);
    expect(live).not.toContain(before.issued.session.id);
    expect(live).toContain(result.issued.session.id);
    expect(calls.map((c) => c[0])).toEqual(['beforeLogin', 'afterLogin']);
    expect(calls[0][1]).toMatchObject({ method: 'oauth', provider: 'github', client });
    // The password keeps working; the credential version is unchanged.
    expect((await s.users.findById(user.id))?.credentialVersion).toBe(1);
    expect(
      (await s.accounts.login({ email: address, password: NEW_PASSWORD }, client)).user.id,
    ).toBe(user.id);
    // Disabled later: the linked identity no longer signs in.
    await s.accounts.disableUser(user.id);
    await expect(s.accounts.oauthLogin(p, client)).rejects.toThrow(
      expect.objectContaining({ code: 'HF_ACCOUNT_DISABLED' }),
    );
  });

  test('never linked: an unproved address, a provider-made account, a disabled one, a beforeLogin refusal, or a holder with another account of the provider', async () => {
    const refusing = setup(false, { beforeLogin: async () => ({ refuse: 'not today' }) });
    const s = setup(false);
    const expectRequired = async (
      svc: ReturnType<typeof setup>,
      address: string,
      code = 'HF_OAUTH_LINK_REQUIRED',
    ) => {
      const p = profile(address);
      const failures: unknown[] = [];
      const listener = (e: unknown) => failures.push(e);
      svc.events.on('loginFailed', listener);
      await expect(svc.accounts.oauthLogin(p, client)).rejects.toThrow(
        expect.objectContaining({ code }),
      );
      svc.events.off('loginFailed', listener);
      expect(await svc.users.findByIdentity('github', p.id)).toBeNull();
      return failures;
    };

    // Registered with a password, never proved: the squatter case (docs/adr/060).
    const squat = email();
    const sq = await s.accounts.register({ email: squat, password: PASSWORD }, client);
    await smtp.nextTo(squat);
    expect(await expectRequired(s, squat)).toEqual([
      { reason: 'oauth', ip: client.ip, provider: 'github', cause: 'link_required' },
    ]);
    expect(await s.users.listIdentities(sq.user.id)).toEqual([]);

    // Made by another provider (verified by its word, no password).
    const made = email();
    await s.accounts.oauthLogin({ ...profile(made), provider: 'google' }, client);
    await expectRequired(s, made);

    // Proved, then disabled.
    const d = await verifiedAccount(s);
    await s.accounts.disableUser(d.user.id);
    await expectRequired(s, d.address);

    // Proved, but the holder has another GitHub account linked already.
    const two = await verifiedAccount(s);
    expect(await s.users.linkIdentity('github', `other-${++seq}`, two.user.id)).toBe(true);
    await expectRequired(s, two.address);

    // Proved, but the host app's beforeLogin refuses: nothing linked, no session.
    const r = await verifiedAccount(refusing);
    await expectRequired(refusing, r.address, 'HF_LOGIN_REFUSED');
    const methods = (await refusing.sessions.list(r.user.id)).map((x) => x.method);
    expect(methods).toEqual(['password']); // the registration's, no provider session
  });
});
