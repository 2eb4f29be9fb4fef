/**
 * Disable, enable, delete, self-delete and the admin service (issue 9 items 4-5, ADR 150) on real
 * services: run on the memory store (test/unit/accounts/lifecycle.test.ts) and on a real Redis
 * (test/integration/users/lifecycle-redis.test.ts), the same assertions on both.
 */
import type { AccountHooks, AuthEventMap, OAuthProfile } from '../../../src/accounts';
import { deleteOwnAccount } from '../../../src/accounts';
import type { Services } from '../../../src/server/services';

export const PASSWORD = 'correct horse battery';
export const client = { ip: '10.9.8.7', userAgent: 'test' };
let seq = 0;
export const address = (tag = 'life') => `${tag}.${process.pid}.${Date.now()}.${++seq}@example.com`;
export const provider = (email: string, id = `gh-${process.pid}-${++seq}`): OAuthProfile => ({
  provider: 'github',
  id,
  email,
  emailVerified: true,
  label: 'GitHub',
});

/** What a before-login hook may do in the middle of a sign-in (the race made certain). */
export interface Race {
  duringLogin?: (userId: string) => Promise<void>;
}

/** `make` builds services whose hooks are `hooks` (so a test can act between check and session). */
export function lifecycleSuite(
  name: string,
  make: (hooks: AccountHooks) => Promise<Services>,
  done: (s: Services) => Promise<void>,
) {
  describe(`account lifecycle (${name})`, () => {
    let s: Services;
    const race: Race = {};
    const seen: { [K in keyof AuthEventMap]?: AuthEventMap[K][0][] } = {};

    beforeAll(async () => {
      s = await make({
        beforeLogin: async ({ user }) => {
          const during = race.duringLogin;
          race.duringLogin = undefined;
          if (during) await during(user.id);
        },
      });
      seen.disabled = [];
      seen.enabled = [];
      seen.deleted = [];
      s.events.on('disabled', (e) => seen.disabled!.push(e));
      s.events.on('enabled', (e) => seen.enabled!.push(e));
      s.events.on('deleted', (e) => seen.deleted!.push(e));
    });
    afterAll(async () => done(s));

    async function account() {
      const email = address();
      const reg = await s.accounts.register({ email, password: PASSWORD, name: 'Ada' }, client);
      const remembered = await s.accounts.login(
        { email, password: PASSWORD, remember: true },
        client,
      );
      return { email, user: reg.user, session: reg.issued!, remembered };
    }

    test('a disabled account: password login (HF_ACCOUNT_DISABLED; a wrong password says nothing more), old sessions and remember-me are refused', async () => {
      const { email, user, session, remembered } = await account();
      expect(await s.admin.disable({ email: email.toUpperCase() })).toBe(true);
      await expect(s.accounts.login({ email, password: PASSWORD }, client)).rejects.toMatchObject({
        code: 'HF_ACCOUNT_DISABLED',
      });
      await expect(
        s.accounts.login({ email, password: 'not the password' }, client),
      ).rejects.toMatchObject({ code: 'HF_LOGIN_FAILED' });
      expect((await s.sessions.authenticate(session.token)).result).toBe('invalid');
      expect((await s.sessions.authenticate(remembered.issued.token)).result).toBe('invalid');
      expect((await s.sessions.useRemember(remembered.rememberToken, client)).result).toBe(
        'invalid',
      );
      expect(await s.sessions.list(user.id)).toEqual([]);
      expect(seen.disabled).toContainEqual({ userId: user.id, revokedSessions: 2 });
    });

    test('a disabled account: OAuth sign-in is refused with HF_ACCOUNT_DISABLED and makes no session', async () => {
      const email = address('oauth');
      const identity = provider(email);
      const first = await s.accounts.oauthLogin(identity, client);
      expect(await s.admin.disable({ userId: first.user.id })).toBe(true);
      await expect(s.accounts.oauthLogin(identity, client)).rejects.toMatchObject({
        code: 'HF_ACCOUNT_DISABLED',
      });
      expect(await s.sessions.list(first.user.id)).toEqual([]);
    });

    test('a request in flight with a session read before the disable: re-authentication (password or provider), password change, unlink and self-delete answer HF_ACCOUNT_DISABLED', async () => {
      const { email, user, session } = await account();
      const identity = provider(email);
      expect(await s.accounts.linkIdentity(session.session, identity)).toBe(true);
      const stale = session.session; // what the scheme handed the handler before the disable
      await s.accounts.disableUser(user.id);
      const disabled = { code: 'HF_ACCOUNT_DISABLED' };
      await expect(s.accounts.reauthenticate(stale, PASSWORD, client)).rejects.toMatchObject(
        disabled,
      );
      await expect(s.accounts.reauthenticateOAuth(stale, identity, client)).rejects.toMatchObject(
        disabled,
      );
      await expect(
        s.accounts.changePassword(
          stale,
          { currentPassword: PASSWORD, newPassword: 'a brand new password' },
          client,
        ),
      ).rejects.toMatchObject(disabled);
      await expect(s.accounts.unlinkIdentity(stale, 'github')).rejects.toMatchObject(disabled);
      await expect(deleteOwnAccount(s.accounts, stale)).rejects.toMatchObject(disabled);
      // Nothing changed: still there, still disabled, no session, the password unchanged.
      const after = await s.users.findById(user.id);
      expect(after).toMatchObject({ disabled: true });
      expect(await s.users.listIdentities(user.id)).toEqual([
        { provider: 'github', subject: identity.id },
      ]);
      expect(await s.sessions.list(user.id)).toEqual([]);
      await s.accounts.enableUser(user.id);
      expect((await s.accounts.login({ email, password: PASSWORD }, client)).user.id).toBe(user.id);
    });

    test('a sign-in under way when the account is disabled keeps no session (password and OAuth)', async () => {
      const { email, user } = await account();
      race.duringLogin = async (id) => {
        expect(await s.accounts.disableUser(id)).toBe(true);
      };
      await expect(s.accounts.login({ email, password: PASSWORD }, client)).rejects.toMatchObject({
        code: 'HF_CREDENTIALS_CHANGED',
      });
      expect(await s.sessions.list(user.id)).toEqual([]);

      const oauthEmail = address('oauth-race');
      const identity = provider(oauthEmail);
      const first = await s.accounts.oauthLogin(identity, client);
      race.duringLogin = async (id) => {
        await s.accounts.disableUser(id);
      };
      await expect(s.accounts.oauthLogin(identity, client)).rejects.toMatchObject({
        code: 'HF_CREDENTIALS_CHANGED',
      });
      expect(await s.sessions.list(first.user.id)).toEqual([]);
    });

    test('enable: sign-in works again; the sessions and remember-me series the disable ended stay ended', async () => {
      const { email, user, session, remembered } = await account();
      await s.admin.disable({ email });
      const version = (await s.users.findById(user.id))!.credentialVersion;
      expect(await s.admin.enable({ email })).toBe(true);
      const enabled = (await s.users.findById(user.id))!;
      expect(enabled).toMatchObject({ disabled: false, credentialVersion: version });
      expect(seen.enabled).toContainEqual({ userId: user.id });
      expect((await s.sessions.authenticate(session.token)).result).toBe('invalid');
      expect((await s.sessions.useRemember(remembered.rememberToken, client)).result).toBe(
        'invalid',
      );
      // Nothing made under the version before the disable can appear now either.
      await expect(
        s.sessions.create(user.id, client, 'password', { credentialVersion: version - 1 }),
      ).rejects.toMatchObject({ code: 'HF_CREDENTIALS_CHANGED' });
      const again = await s.accounts.login({ email, password: PASSWORD, remember: true }, client);
      expect((await s.sessions.authenticate(again.issued.token)).result).toBe('ok');
      expect((await s.sessions.useRemember(again.rememberToken, client)).result).toBe('ok');
      // Enabling an enabled account changes nothing and says it is done.
      expect(await s.admin.enable({ userId: user.id })).toBe(true);
      expect((await s.users.findById(user.id))!.credentialVersion).toBe(version);
    });

    test('delete: the record, email index, linked identities and roles go; the address registers again as a new id and the identity links to someone else', async () => {
      const { email, user, session, remembered } = await account();
      const identity = provider(email);
      expect(await s.accounts.linkIdentity(session.session, identity)).toBe(true);
      expect(await s.accounts.setRoles(user.id, ['admin'])).toBe(true);

      // The service's own delete (what admin.delete calls) counts as an administrator's act.
      expect(await s.accounts.deleteUser(user.id)).toBe(true);
      expect(seen.deleted).toContainEqual({ userId: user.id, revokedSessions: 2, by: 'admin' });
      expect(await s.users.findById(user.id)).toBeNull();
      expect(await s.users.findByEmail(email)).toBeNull();
      expect(await s.users.findByIdentity('github', identity.id)).toBeNull();
      expect(await s.users.listIdentities(user.id)).toEqual([]);
      expect(await s.accounts.rolesOf(user.id)).toEqual([]);
      expect(await s.sessions.list(user.id)).toEqual([]);
      expect((await s.sessions.useRemember(remembered.rememberToken, client)).result).toBe(
        'invalid',
      );
      expect(await s.admin.show({ userId: user.id })).toBeNull();

      const reborn = await s.accounts.register({ email, password: PASSWORD }, client);
      expect(reborn.user.id).not.toBe(user.id);
      expect(reborn.user).toMatchObject({ email, roles: [], disabled: false });
      // The provider account is free: it links to the new account (the old id is nobody's).
      expect(await s.accounts.linkIdentity(reborn.issued!.session, identity)).toBe(true);
      expect((await s.users.findByIdentity('github', identity.id))!.id).toBe(reborn.user.id);
      // A second delete of the old id finds nothing.
      expect(await s.accounts.deleteUser(user.id)).toBe(false);
      expect(await s.admin.delete({ userId: user.id })).toBe(false);
    });

    test('self-delete needs a recent authentication (HF_REAUTH_REQUIRED, nothing deleted); then every session and series ends', async () => {
      const { email, user, remembered } = await account();
      // A remember-me sign-in never counts as recent.
      const byCookie = await s.sessions.useRemember(remembered.rememberToken, client);
      if (byCookie.result !== 'ok') throw new Error('remember-me sign-in failed');
      await expect(deleteOwnAccount(s.accounts, byCookie.issued.session)).rejects.toMatchObject({
        code: 'HF_REAUTH_REQUIRED',
      });
      expect(await s.users.findById(user.id)).not.toBeNull();
      const confirmed = await s.accounts.reauthenticate(byCookie.issued.session, PASSWORD, client);
      await deleteOwnAccount(s.accounts, confirmed.session);
      expect(seen.deleted).toContainEqual({ userId: user.id, revokedSessions: 3, by: 'self' });
      expect(await s.users.findById(user.id)).toBeNull();
      expect(await s.users.findByEmail(email)).toBeNull();
      expect((await s.sessions.authenticate(confirmed.token)).result).toBe('invalid');
      expect(await s.sessions.list(user.id)).toEqual([]);
      // The same request again (a double submit): the account is gone, 401.
      await expect(deleteOwnAccount(s.accounts, confirmed.session)).rejects.toMatchObject({
        code: 'HF_UNAUTHENTICATED',
      });
    });

    test('admin: show, listSessions and revokeSessions by id or email; unknown users answer null / false / 0; a malformed email is HF_USER_INVALID', async () => {
      const { email, user, session, remembered } = await account();
      await s.users.markEmailVerified(user.id);
      await s.accounts.setRoles(user.id, ['ops', 'billing.read']);
      const identity = provider(email);
      await s.accounts.linkIdentity(session.session, identity);
      const shown = await s.admin.show({ email: ` ${email.toUpperCase()} ` });
      expect(shown).toEqual({
        id: user.id,
        email,
        name: 'Ada',
        status: 'enabled',
        emailVerified: true,
        createdAt: new Date((await s.users.findById(user.id))!.createdAt).toISOString(),
        sessions: 2,
        identities: [{ provider: 'github', subject: identity.id }],
        roles: ['ops', 'billing.read'],
      });
      expect(JSON.stringify(shown)).not.toMatch(/scrypt|\$/);
      expect((await s.admin.listSessions({ userId: user.id }))!.map((x) => x.id).sort()).toEqual(
        [session.session.id, remembered.issued.session.id].sort(),
      );
      expect(await s.admin.revokeSessions({ email }, session.session.id)).toBe(1);
      expect(await s.admin.revokeSessions({ email }, session.session.id)).toBe(0);
      expect((await s.admin.show({ userId: user.id }))!.sessions).toBe(1);
      expect(await s.admin.revokeSessions({ userId: user.id })).toBe(1);
      expect((await s.sessions.useRemember(remembered.rememberToken, client)).result).toBe(
        'invalid',
      );
      expect(await s.admin.disable({ userId: user.id })).toBe(true);
      expect((await s.admin.show({ userId: user.id }))!.status).toBe('disabled');

      const nobody = { email: address('nobody') };
      expect(await s.admin.show(nobody)).toBeNull();
      expect(await s.admin.listSessions(nobody)).toBeNull();
      expect(await s.admin.disable(nobody)).toBe(false);
      expect(await s.admin.enable(nobody)).toBe(false);
      expect(await s.admin.delete(nobody)).toBe(false);
      expect(await s.admin.revokeSessions(nobody)).toBe(0);
      expect(await s.accounts.enableUser('AAAAAAAAAAAAAAAAAAAAAA')).toBe(false);
      await expect(s.admin.show({ email: 'not an address' })).rejects.toMatchObject({
        code: 'HF_USER_INVALID',
      });
      await expect(s.admin.show({ userId: '' })).rejects.toMatchObject({
        code: 'HF_USER_INVALID',
      });
    });
  });
}
