import type { Settings } from '../config';
import { HoldfastError } from '../errors';
import { CredentialsChangedError } from '../session';
import type { ClientInfo, IssuedSession, SessionService } from '../session';
import type { StoredSession } from '../store/engine';
import {
  isAcceptableEmail,
  LinkedIdentity,
  LoginThrottle,
  MAX_EMAIL_LENGTH,
  MAX_ROLES,
  normalizeEmail,
  PasswordHasher,
  publicUser,
  ROLE_NAME,
  User,
  UserExistsError,
  UserInputError,
  UserStore,
} from '../users';
import {
  AccountDisabledError,
  EmailUnverifiedError,
  LoginFailedError,
  ReauthRequiredError,
  RegistrationThrottledError,
  ThrottledError,
} from './errors';
import type { AuthEvents } from './events';
import type { RevocationRetry } from './revocation-retry';
import { AccountHooks, HookRunner, LoginRefusedError, RegistrationRefusedError } from './hooks';
import { BreachedPasswordLookup, PasswordContext, PasswordPolicy } from './password-policy';

export interface LoginResult {
  readonly user: User;
  readonly issued: IssuedSession;
  /** The remember-me cookie value when `remember` was asked for. */
  readonly rememberToken?: string;
}

/**
 * A registration: the new user, and their session, or null while accounts.requireVerifiedEmail
 * waits for the mailed link (ADR 145).
 */
export interface RegisterResult {
  readonly user: User;
  readonly issued: IssuedSession | null;
}

export interface NewAccountInput {
  readonly email: unknown;
  readonly password: unknown;
  readonly name?: string;
}

/** A provider's word about who signed in (OAuth). */
export interface OAuthProfile {
  readonly provider: string;
  readonly id: string;
  readonly email?: string;
  readonly emailVerified: boolean;
  readonly name?: string;
  /** The provider's display name for messages ("GitHub"); its `provider` name otherwise. */
  readonly label?: string;
}

/** What linkVerified did. */
export interface MergeResult {
  /** The account's address had never been proved: its password, sessions and series ended. */
  readonly merged: boolean;
  readonly endedPassword: boolean;
  readonly revokedSessions: number;
}

/** What the account service works on; server/services.ts builds each once. */
export interface AccountDeps {
  readonly settings: Settings;
  readonly sessions: SessionService;
  readonly users: UserStore;
  readonly throttle: LoginThrottle;
  readonly hasher: PasswordHasher;
  readonly events: AuthEvents;
  /** Finishes a written credential change's revocation when the store was away (ADR 272). */
  readonly revocations: RevocationRetry;
  /** The host app's breach lookup (k-anonymity); none by default. See PasswordPolicy. */
  readonly breachedPassword?: BreachedPasswordLookup;
  /** How long the breach lookup may take before the password is accepted without it. */
  readonly breachedPasswordTimeoutMs?: number;
  /** Decides whether an authentication is recent (auth.reauthWindow); tests move it. */
  readonly clock?: () => number;
  /** The host app's hooks (ADR 120); none by default. */
  readonly hooks?: AccountHooks;
}

/**
 * The account rules: registration, login (throttled, same work for unknown email and wrong
 * password), logout, password change, OAuth sign-in. No HTTP here: the JSON API, the pages, the
 * OAuth routes and the CLI are adapters over this service. `current` is the caller's live session
 * (null when anonymous); a sign-in ends it, so no session id can be fixed in advance.
 */
export class AccountService {
  readonly users: UserStore;
  readonly events: AuthEvents;
  private readonly settings: Settings;
  private readonly sessions: SessionService;
  private readonly throttle: LoginThrottle;
  private readonly hasher: PasswordHasher;
  private readonly passwords: PasswordPolicy;
  private readonly clock: () => number;
  private readonly hooks: HookRunner;
  private readonly revocations: RevocationRetry;

  constructor(deps: AccountDeps) {
    ({
      settings: this.settings,
      sessions: this.sessions,
      users: this.users,
      throttle: this.throttle,
      hasher: this.hasher,
      events: this.events,
      revocations: this.revocations,
    } = deps);
    this.passwords = new PasswordPolicy({
      minLength: this.settings.password.minLength,
      maxLength: this.settings.password.maxLength,
      breached: deps.breachedPassword,
      breachedTimeoutMs: deps.breachedPasswordTimeoutMs,
      onLookupFailed: (cause, message) =>
        this.events.record('breachCheckFailed', { cause, message }),
    });
    this.clock = deps.clock ?? Date.now;
    this.hooks = new HookRunner(deps.hooks ?? {}, (e) => this.events.record('hookFailed', e));
  }

  /**
   * A new password: length, not one of the most common, not the account's email or name, and not
   * breached (when the host app gave a lookup; it fails open). Before any hashing.
   */
  async checkPassword(
    password: unknown,
    field = 'password',
    account: PasswordContext = {},
  ): Promise<string> {
    const checked = this.passwords.check(password, field, account);
    await this.passwords.checkBreached(checked, field);
    return checked;
  }

  checkEmail(email: unknown): string {
    if (typeof email !== 'string') throw new UserInputError('email', 'must be text');
    const normalized = normalizeEmail(email);
    if (normalized.length > MAX_EMAIL_LENGTH) {
      throw new UserInputError('email', `must be at most ${MAX_EMAIL_LENGTH} characters`);
    }
    if (!isAcceptableEmail(normalized))
      throw new UserInputError('email', 'must be an address like name@example.com');
    return normalized;
  }

  /** A new password account (registration, `holdfast users create`); no session. */
  async createUser(input: NewAccountInput): Promise<User> {
    const user = await this.addUser(await this.checkNewAccount(input), null);
    await this.hooks.after('afterRegister', {
      user: publicUser(user),
      method: 'password',
      client: null,
    });
    return user;
  }

  /**
   * Anonymous registration: cheap checks first (input rules, then the address's registration
   * count, then a taken email), and only then the expensive hash, in the hashing queue's lower lane.
   */
  async register(
    input: NewAccountInput,
    client: ClientInfo,
    current?: StoredSession | null,
  ): Promise<RegisterResult> {
    const fields = await this.checkNewAccount(input);
    this.hasher.queue.admit('hash');
    const wait = await this.throttle.beginRegistration(client.ip);
    if (wait > 0) throw new RegistrationThrottledError(wait);
    const user = await this.addUser(fields, client);
    if (this.settings.accounts.requireVerifiedEmail) {
      // No session until the mailed link proves the address; a session the browser had stays.
      await this.hooks.after('afterRegister', {
        user: publicUser(user),
        method: 'password',
        client,
      });
      return { user, issued: null };
    }
    await this.endCurrent(current);
    const issued = await this.sessions.create(user.id, client, 'password');
    this.events.record('login', {
      userId: user.id,
      sessionId: issued.session.id,
      method: 'password',
      remember: false,
      ip: client.ip,
    });
    await this.hooks.after('afterRegister', { user: publicUser(user), method: 'password', client });
    return { user, issued };
  }

  async login(
    input: { email: string; password: string; remember?: boolean },
    client: ClientInfo,
    current?: StoredSession | null,
  ): Promise<LoginResult> {
    const email = normalizeEmail(input.email);
    await this.beginAttempt(email, client);
    // Read once, before the slow verification: the session is created under this credential
    // version, and the store refuses it if a change raised the user's epoch meanwhile (ADR 040).
    const user = await this.users.findByEmail(email);
    let reason:
      'unknown_email' | 'no_password' | 'wrong_password' | 'disabled' | 'unverified' | null = null;
    if (!user) {
      await this.hasher.verifyDummy(input.password);
      reason = 'unknown_email';
    } else if (!user.passwordHash) {
      await this.hasher.verifyDummy(input.password);
      reason = 'no_password';
    } else {
      const v = await this.hasher.verify(input.password, user.passwordHash);
      if (!v.ok) reason = 'wrong_password';
      else if (user.disabled) reason = 'disabled';
      else if (this.settings.accounts.requireVerifiedEmail && !user.emailVerified)
        reason = 'unverified';
      else if (v.needsRehash) {
        // Only over the very hash just verified, keeping the credential version: a password
        // changed meanwhile is never overwritten by the old one (null then: nothing written).
        await this.users.updatePassword(
          user.id,
          { expectedHash: user.passwordHash },
          await this.hasher.hash(input.password),
          { bumpVersion: false, changedAt: user.passwordChangedAt ?? Date.now() },
        );
      }
    }
    if (reason || !user) {
      this.events.record('loginFailed', { reason: reason ?? 'unknown_email', ip: client.ip });
      // Disabled and unverified are said only to someone who gave the right password.
      if (reason === 'disabled') throw new AccountDisabledError();
      throw reason === 'unverified' ? new EmailUnverifiedError() : new LoginFailedError();
    }
    // Before the throttle forgets the failures: a refused sign-in is not a successful one.
    const signIn = { user: publicUser(user), method: 'password', client } as const;
    await this.refuseLogin(signIn);
    await this.throttle.succeeded(email, client.ip);
    await this.endCurrent(current);
    let issued: IssuedSession;
    try {
      issued = await this.sessions.create(user.id, client, 'password', {
        credentialVersion: user.credentialVersion,
        remember: !!input.remember,
      });
    } catch (err) {
      if (err instanceof CredentialsChangedError)
        this.events.record('loginFailed', { reason: 'credentials_changed', ip: client.ip });
      throw err;
    }
    const rememberToken = issued.rememberToken;
    this.events.record('login', {
      userId: user.id,
      sessionId: issued.session.id,
      method: 'password',
      remember: !!input.remember,
      ip: client.ip,
    });
    await this.hooks.after('afterLogin', signIn);
    return { user, issued, rememberToken };
  }

  async logout(current: StoredSession | null, rememberCookie: string | undefined): Promise<void> {
    await this.sessions.forget(rememberCookie);
    if (!current) return;
    await this.sessions.revoke(current.userId, current.id, 'logout');
    this.events.record('logout', { userId: current.userId, sessionId: current.id });
    await this.hooks.after('afterLogout', { userId: current.userId, sessionId: current.id });
  }

  /** Ends one of the user's sessions. False when it is not theirs or already gone. */
  async revokeOne(current: StoredSession, sessionId: string): Promise<boolean> {
    const done = await this.sessions.revoke(current.userId, sessionId, 'revoke');
    if (done)
      this.events.record('revoked', {
        userId: current.userId,
        sessionIds: [sessionId],
        scope: 'one',
      });
    return done;
  }

  /** Needs a recent authentication: a stolen session alone must not sign the owner out everywhere. */
  async revokeOthers(current: StoredSession): Promise<string[]> {
    this.requireRecent(current);
    const ended = await this.sessions.revokeAll(current.userId, 'revoke', current.id);
    this.events.record('revoked', { userId: current.userId, sessionIds: ended, scope: 'others' });
    return ended;
  }

  /**
   * Changes the password after checking the current one (re-authentication), ends every other
   * session and remember-me series, and replaces the current session by a new id. The write is a
   * compare-and-set on the credential version read here, and the same step that ends the other
   * sessions raises the user's credential epoch: a login that checked the old password while this
   * ran cannot keep a session, and a racing re-hash cannot bring the old password back (ADR 040).
   * When the store fails after the new password is written, the other sessions still end (ADR 272).
   */
  async changePassword(
    current: StoredSession,
    input: { currentPassword: string; newPassword: unknown },
    client: ClientInfo,
  ): Promise<IssuedSession> {
    const user = await this.userOf(current);
    await this.confirmPassword(user, input.currentPassword, client, 'currentPassword');
    const next = await this.checkPassword(input.newPassword, 'newPassword', user);
    const version = await this.users.updatePassword(
      user.id,
      { expectedVersion: user.credentialVersion },
      await this.hasher.hash(next),
      { bumpVersion: true, changedAt: this.clock() },
    );
    if (version === null)
      throw new CredentialsChangedError(
        'the password was changed elsewhere (or the account disabled) while this change ran: sign in again with the current password',
      );
    await this.revocations.revoke(
      {
        change: 'password-change',
        userId: user.id,
        reason: 'password',
        exceptId: current.id,
        epoch: version,
      },
      async (ended) => {
        this.events.record('passwordChanged', { userId: user.id, revokedSessions: ended.length });
        await this.hooks.after('afterPasswordChange', { user: publicUser(user), client });
      },
    );
    // Every series ended above, this device's too: the new session belongs to none.
    // The current password was just checked: the new session counts as a re-authentication.
    const issued = await this.sessions.rotate(
      current,
      client,
      { credentialVersion: version, seriesId: null },
      'password',
    );
    if (!issued)
      throw new HoldfastError(
        'HF_UNAUTHENTICATED',
        'this session ended while the password changed: log in again',
      );
    return issued;
  }

  /**
   * Disables a user (an administrator's act): they can no longer sign in, and every session and
   * remember-me series ends; the credential epoch rises in the same step, so a sign-in that was
   * under way cannot leave a session behind. False when there is no such user.
   */
  async disableUser(userId: string): Promise<boolean> {
    const version = await this.users.disable(userId);
    if (version === null) return false;
    await this.revocations.revoke(
      { change: 'disable', userId, reason: 'admin', epoch: version },
      (ended) => this.events.record('disabled', { userId, revokedSessions: ended.length }),
    );
    return true;
  }

  /**
   * Deletes a user: the record and email go, every session and remember-me series ends, and the
   * credential epoch rises past every version the user had (nothing made before can appear
   * later). False when there is no such user.
   */
  async deleteUser(userId: string, by: 'admin' | 'self' = 'admin'): Promise<boolean> {
    const version = await this.users.delete(userId);
    if (version === null) return false;
    await this.revocations.revoke(
      { change: 'delete', userId, reason: 'admin', epoch: version + 1 },
      (ended) => this.events.record('deleted', { userId, revokedSessions: ended.length, by }),
    );
    return true;
  }

  /**
   * Enables a disabled user: they can sign in again. Nothing comes back: the sessions and
   * remember-me series the disable ended stay ended, and the credential version stays raised.
   * False when there is no such user.
   */
  async enableUser(userId: string): Promise<boolean> {
    if (!(await this.users.enable(userId))) return false;
    this.events.record('enabled', { userId });
    return true;
  }

  /**
   * Replaces a user's roles (an administrator's act; `holdfast users roles` is an adapter over
   * it). Each name matches ROLE_NAME, at most MAX_ROLES, duplicates dropped, order kept; anything
   * else throws UserInputError (HF_USER_INVALID, field `roles`) before anything is written. The
   * roles apply from the user's next request on a scoped route: the scheme reads them there (ADR
   * 086), so a removed role stops working at once, on every node. False when there is no such user.
   */
  async setRoles(userId: string, roles: readonly string[]): Promise<boolean> {
    const checked = checkRoles(roles);
    if (!(await this.users.setRoles(userId, checked))) return false;
    this.events.record('rolesChanged', { userId, roles: checked });
    return true;
  }

  /**
   * The roles a request's scope is made of: the user's, read now (never cached), or none for a
   * disabled or deleted user.
   */
  async rolesOf(userId: string): Promise<readonly string[]> {
    const user = await this.users.findById(userId);
    return user && !user.disabled ? user.roles : [];
  }

  /**
   * OAuth sign-in: a linked identity logs its user in. Otherwise a verified email creates an
   * account (no password) when no account has that address. When one has, nothing is linked and
   * nobody signs in (HF_OAUTH_LINK_REQUIRED): Holdfast never proved that whoever registered the
   * address owns it, so linking on the provider's word would hand the owner's sign-in to a
   * squatter's account (pre-hijacking, docs/adr/060). The owner signs in and links from /account.
   * An unverified email never creates anything. A session the browser already had ends (no
   * fixation); the new one has method `oauth`.
   */
  async oauthLogin(
    profile: OAuthProfile,
    client: ClientInfo,
    current?: StoredSession | null,
  ): Promise<LoginResult> {
    const provider = profile.provider;
    let user = await this.users.findByIdentity(provider, profile.id);
    const created = !user;
    if (!user) {
      if (!profile.email || !profile.emailVerified) {
        this.events.record('loginFailed', {
          reason: 'oauth',
          ip: client.ip,
          provider,
          cause: 'unverified_email',
        });
        throw new HoldfastError(
          'HF_OAUTH_FAILED',
          `${labelOf(profile)} gave no verified email address for this account: verify your address with ${labelOf(profile)}, then sign in again`,
        );
      }
      const email = this.checkEmail(profile.email);
      const holder = await this.users.findByEmail(email);
      if (holder) return this.oauthLinkProved(holder, profile, client, current);
      const name = (profile.name ?? '').trim().slice(0, 100);
      await this.refuseRegistration({ email, name, method: 'oauth', provider, client });
      try {
        user = await this.users.create({
          email,
          name,
          passwordHash: null,
          // Nobody held this address here before: the provider's proof is the holder's proof.
          emailVerified: true,
        });
      } catch (err) {
        // A registration of the same address won a race: that account is not linked either.
        if (err instanceof UserExistsError) throw this.linkRequired(profile, client);
        throw err;
      }
      this.events.record('registered', { userId: user.id, method: 'oauth' });
      if (!(await this.users.linkIdentity(provider, profile.id, user.id))) {
        // A parallel first sign-in of the same provider account linked it first: that user.
        user = (await this.users.findByIdentity(provider, profile.id)) ?? user;
      }
    }
    if (user.disabled) {
      this.events.record('loginFailed', { reason: 'disabled', ip: client.ip, provider });
      throw new AccountDisabledError();
    }
    // A first sign-in is a registration: its hooks are beforeRegister and afterRegister.
    const signIn = { user: publicUser(user), method: 'oauth', provider, client } as const;
    if (!created) await this.refuseLogin(signIn);
    await this.endCurrent(current);
    const issued = await this.sessions.create(user.id, client, 'oauth', {
      credentialVersion: user.credentialVersion,
    });
    this.events.record('login', {
      userId: user.id,
      sessionId: issued.session.id,
      method: 'oauth',
      remember: false,
      ip: client.ip,
      provider,
    });
    await this.hooks.after(created ? 'afterRegister' : 'afterLogin', signIn);
    return { user, issued };
  }

  /**
   * A provider sign-in whose verified email is the address of an account that has no link to it
   * (ADR 146). Linked, and signed in, only when Holdfast itself proved that address: a password
   * account marked verified (its own mailed link; a provider-created account has no password and
   * linkVerified ends the password of any account it marks). Anything else is LINK_REQUIRED with
   * nothing changed: a squatter's unverified registration is never linked (docs/adr/060).
   */
  private async oauthLinkProved(
    holder: User,
    profile: OAuthProfile,
    client: ClientInfo,
    current?: StoredSession | null,
  ): Promise<LoginResult> {
    if (!holder.emailVerified || !holder.passwordHash || holder.disabled)
      throw this.linkRequired(profile, client);
    const provider = profile.provider;
    const signIn = { user: publicUser(holder), method: 'oauth', provider, client } as const;
    await this.refuseLogin(signIn);
    // Refused when the holder has another account of this provider, or a parallel sign-in won.
    if (!(await this.users.linkIdentity(provider, profile.id, holder.id)))
      throw this.linkRequired(profile, client);
    this.events.record('identityLinked', {
      userId: holder.id,
      provider,
      label: labelOf(profile),
      merged: false,
      endedPassword: false,
      revokedSessions: 0,
      automatic: true,
    });
    await this.endCurrent(current);
    const issued = await this.sessions.create(holder.id, client, 'oauth', {
      credentialVersion: holder.credentialVersion,
    });
    this.events.record('login', {
      userId: holder.id,
      sessionId: issued.session.id,
      method: 'oauth',
      remember: false,
      ip: client.ip,
      provider,
    });
    await this.hooks.after('afterLogin', signIn);
    return { user: holder, issued };
  }

  /**
   * The session's user proved who they are at most `auth.reauthWindow` ago: a password or provider
   * sign-in, a password change or a re-authentication. A remember-me sign-in or a plain rotation
   * never counts: the session's method and start say which (ASVS V7.5.1).
   */
  isRecent(session: StoredSession): boolean {
    if (session.method !== 'password' && session.method !== 'oauth') return false;
    return this.clock() - session.createdAt <= this.settings.auth.reauthWindow;
  }

  /** Until when the session counts as recently authenticated (epoch ms), or null when it does not. */
  recentUntil(session: StoredSession): number | null {
    return this.isRecent(session) ? session.createdAt + this.settings.auth.reauthWindow : null;
  }

  requireRecent(session: StoredSession): void {
    if (!this.isRecent(session)) throw new ReauthRequiredError(this.settings.auth.reauthWindow);
  }

  /**
   * Re-authentication with the password: throttled exactly like a login (the same counters, so a
   * stolen session is no faster an oracle for the password than the login form). Success replaces
   * the session by a new one (new id; method `password`, started now).
   */
  async reauthenticate(
    current: StoredSession,
    password: string,
    client: ClientInfo,
  ): Promise<IssuedSession> {
    const user = await this.userOf(current);
    if (!user.passwordHash) {
      throw new HoldfastError(
        'HF_PASSWORD_MISMATCH',
        'this account has no password: confirm it is you by signing in again with a linked provider',
      );
    }
    await this.confirmPassword(user, password, client, 'password');
    return this.reissue(current, client, 'password');
  }

  private async checkNewAccount(
    input: NewAccountInput,
  ): Promise<{ email: string; password: string; name: string }> {
    const email = this.checkEmail(input.email);
    const name = (input.name ?? '').trim().slice(0, 100);
    return {
      email,
      name,
      password: await this.checkPassword(input.password, 'password', { email, name }),
    };
  }

  private async addUser(
    fields: { email: string; password: string; name: string },
    client: ClientInfo | null,
  ): Promise<User> {
    // A taken email is refused before the hash: the 409 says nothing more than before, sooner.
    if (await this.users.findByEmail(fields.email)) throw new UserExistsError();
    // Last before the hash and the write: a refusal or a failing hook leaves nothing behind.
    const { email, name } = fields;
    await this.refuseRegistration({ email, name, method: 'password', client });
    const passwordHash = await this.hasher.hash(fields.password);
    const user = await this.users.create({ email: fields.email, name: fields.name, passwordHash });
    this.events.record('registered', { userId: user.id, method: 'password' });
    return user;
  }

  /** The host app's beforeRegister: a refusal is HF_REGISTRATION_REFUSED with its message. */
  private async refuseRegistration(
    input: Parameters<NonNullable<AccountHooks['beforeRegister']>>[0],
  ): Promise<void> {
    const refusal = await this.hooks.before('beforeRegister', input);
    if (refusal !== null) throw new RegistrationRefusedError(refusal);
  }

  /** The host app's beforeLogin: a refusal is a failed login (`refused`), HF_LOGIN_REFUSED. */
  private async refuseLogin(
    input: Parameters<NonNullable<AccountHooks['beforeLogin']>>[0],
  ): Promise<void> {
    const refusal = await this.hooks.before('beforeLogin', input);
    if (refusal === null) return;
    this.events.record('loginFailed', {
      reason: 'refused',
      ip: input.client.ip,
      provider: input.provider,
    });
    throw new LoginRefusedError(refusal);
  }

  /**
   * Counts a password attempt for the account and the address before any check (so parallel
   * guesses cannot pass the limit); past it, 429 even for the right password. A full hashing
   * queue refuses first (503), so a busy node never counts as a failed attempt.
   */
  private async beginAttempt(email: string, client: ClientInfo): Promise<void> {
    this.hasher.queue.admit('verify');
    const decision = await this.throttle.begin(email, client.ip);
    if (decision.allowed) return;
    this.events.record('throttled', {
      scope: decision.scope,
      retryAfterMs: decision.retryAfterMs,
      ip: client.ip,
    });
    throw new ThrottledError(decision.retryAfterMs);
  }

  /**
   * A signed-in user's current password, checked like a login: counted in the same throttle
   * (account and address) before the check, so a stolen session is no unthrottled oracle for the
   * password; past the limit 429 even when it is right; a right one resets the account's count.
   */
  private async confirmPassword(
    user: User,
    password: string,
    client: ClientInfo,
    field: string,
  ): Promise<void> {
    const email = normalizeEmail(user.email);
    await this.beginAttempt(email, client);
    const ok = user.passwordHash
      ? (await this.hasher.verify(password, user.passwordHash)).ok
      : (await this.hasher.verifyDummy(password), false);
    if (!ok) {
      this.events.record('loginFailed', { reason: 'wrong_password', ip: client.ip });
      throw new HoldfastError('HF_PASSWORD_MISMATCH', `${field} is wrong`);
    }
    await this.throttle.succeeded(email, client.ip);
  }

  /** Re-authentication through a provider account linked to this user (the OAuth callback). */
  async reauthenticateOAuth(
    current: StoredSession,
    profile: OAuthProfile,
    client: ClientInfo,
  ): Promise<IssuedSession> {
    const owner = await this.users.findByIdentity(profile.provider, profile.id);
    // A request that began before its account was disabled: refused with the disabled code.
    if (owner?.id === current.userId && owner.disabled) throw new AccountDisabledError();
    if (owner?.id !== current.userId) {
      this.events.record('loginFailed', {
        reason: 'oauth',
        ip: client.ip,
        provider: profile.provider,
        cause: 'not_linked',
      });
      throw new HoldfastError(
        'HF_OAUTH_NOT_LINKED',
        `this ${labelOf(profile)} account is not linked to yours: confirm with the one you linked, or with your password`,
      );
    }
    return this.reissue(current, client, 'oauth', profile.provider);
  }

  /** The provider accounts linked to the session's user. */
  identities(userId: string): Promise<LinkedIdentity[]> {
    return this.users.listIdentities(userId);
  }

  /**
   * Checks, before the browser goes to the provider, that a link can succeed: recent
   * authentication, and no account of that provider linked yet.
   */
  async checkCanLink(current: StoredSession, provider: string, label = provider): Promise<void> {
    this.requireRecent(current);
    const linked = await this.users.listIdentities(current.userId);
    if (linked.some((i) => i.provider === provider)) throw linkedAlready(label);
  }

  /**
   * Links a provider account to the signed-in user (the OAuth callback of a link started from
   * /account). Needs a recent authentication: whoever holds a stolen session must not add a
   * sign-in of their own. Refused when that provider account is linked to someone else.
   * True when it was linked now, false when it already was linked to this user.
   */
  async linkIdentity(current: StoredSession, profile: OAuthProfile): Promise<boolean> {
    this.requireRecent(current);
    const label = labelOf(profile);
    const owner = await this.users.findByIdentity(profile.provider, profile.id);
    if (owner?.id === current.userId) return false;
    if (owner) {
      throw new HoldfastError(
        'HF_OAUTH_LINK_CONFLICT',
        `this ${label} account is linked to another account here: unlink it there first`,
      );
    }
    if (!(await this.users.linkIdentity(profile.provider, profile.id, current.userId))) {
      // Linked elsewhere meanwhile, or this account has another account of the provider.
      throw linkedAlready(label);
    }
    this.events.record('identityLinked', {
      userId: current.userId,
      provider: profile.provider,
      label,
      merged: false,
      endedPassword: false,
      revokedSessions: 0,
    });
    return true;
  }

  /**
   * Unlinks the user's account of `provider`. Needs a recent authentication; refused when it is
   * the last way to sign in (no password, no other provider).
   */
  async unlinkIdentity(current: StoredSession, provider: string, label = provider): Promise<void> {
    this.requireRecent(current);
    const user = await this.userOf(current);
    const linked = await this.users.listIdentities(user.id);
    if (!linked.some((i) => i.provider === provider)) {
      throw new HoldfastError('HF_OAUTH_NOT_LINKED', `no ${label} account is linked to yours`);
    }
    if (!user.passwordHash && linked.length < 2) {
      throw new HoldfastError(
        'HF_OAUTH_LAST_METHOD',
        `${label} is the only way to sign in to this account: link another provider before unlinking it`,
      );
    }
    await this.users.unlinkIdentity(provider, user.id);
    this.events.record('identityUnlinked', { userId: user.id, provider });
  }

  /**
   * Links a provider account to a user once Holdfast ITSELF has proved that the person presenting
   * it controls the account's address (a mailed link: the email verification of the account
   * lifecycle issue). Never call it on a provider's word alone: oauthLogin refuses that case.
   * When nobody had proved the address before (every password registration so far), whoever set
   * the password may have registered someone else's address: the password, every session and
   * every remember-me series end, and the address counts as verified from now on.
   */
  async linkVerified(userId: string, profile: OAuthProfile): Promise<MergeResult> {
    const user = await this.users.findById(userId);
    if (!user) throw new HoldfastError('HF_UNAUTHENTICATED', 'no such account');
    const owner = await this.users.findByIdentity(profile.provider, profile.id);
    if (owner && owner.id !== userId) {
      throw new HoldfastError(
        'HF_OAUTH_LINK_CONFLICT',
        `this ${labelOf(profile)} account is linked to another account here: unlink it there first`,
      );
    }
    const merged = !user.emailVerified;
    let endedPassword = false;
    let revoked: string[] = [];
    if (merged) {
      // Password first, then sessions: the credential epoch rises with the revocation, so a
      // sign-in with the old password that is under way cannot leave a session behind (ADR 040).
      let version: number | undefined;
      if (user.passwordHash) {
        version = (await this.users.clearPassword(user.id, this.clock())) ?? undefined;
        endedPassword = true;
      }
      // When this meets an outage the user tries the link again: the address is still unproved.
      revoked = await this.revocations.revoke(
        { change: 'address-proved', userId: user.id, reason: 'password', epoch: version },
        () => undefined,
      );
      await this.users.markEmailVerified(user.id);
    }
    if (!owner && !(await this.users.linkIdentity(profile.provider, profile.id, user.id))) {
      throw linkedAlready(labelOf(profile));
    }
    this.events.record('identityLinked', {
      userId: user.id,
      provider: profile.provider,
      merged,
      endedPassword,
      revokedSessions: revoked.length,
    });
    return { merged, endedPassword, revokedSessions: revoked.length };
  }

  private linkRequired(profile: OAuthProfile, client: ClientInfo): HoldfastError {
    this.events.record('loginFailed', {
      reason: 'oauth',
      ip: client.ip,
      provider: profile.provider,
      cause: 'link_required',
    });
    const label = labelOf(profile);
    return new HoldfastError(
      'HF_OAUTH_LINK_REQUIRED',
      `an account with this email address already exists: sign in to it as you usually do (its password, or the provider you used before), then link ${label} from your account page`,
    );
  }

  /**
   * The session's user, for an action of theirs. A session read just before its account was
   * disabled (a request in flight) is refused with the disabled code, not acted on.
   */
  private async userOf(current: StoredSession): Promise<User> {
    const user = await this.users.findById(current.userId);
    if (!user)
      throw new HoldfastError('HF_UNAUTHENTICATED', 'the account of this session no longer exists');
    if (user.disabled) throw new AccountDisabledError();
    return user;
  }

  /** Re-authentication is a new authentication: a new session id (ASVS V7.2.4). */
  private async reissue(
    current: StoredSession,
    client: ClientInfo,
    method: 'password' | 'oauth',
    provider?: string,
  ): Promise<IssuedSession> {
    const issued = await this.sessions.rotate(current, client, {}, method);
    if (!issued)
      throw new HoldfastError('HF_UNAUTHENTICATED', 'this session ended meanwhile: log in again');
    this.events.record('reauthenticated', {
      userId: current.userId,
      sessionId: issued.session.id,
      method,
      ip: client.ip,
      ...(provider ? { provider } : {}),
    });
    return issued;
  }

  /** A new session at every sign-in; the one the browser already had ends (no fixation, V7.2.4). */
  private async endCurrent(current: StoredSession | null | undefined): Promise<void> {
    if (current) await this.sessions.revoke(current.userId, current.id, 'rotation');
  }
}

function labelOf(profile: OAuthProfile): string {
  return profile.label ?? profile.provider;
}

function linkedAlready(label: string): HoldfastError {
  return new HoldfastError(
    'HF_OAUTH_LINK_CONFLICT',
    `a ${label} account is already linked to yours: unlink it first to link another one`,
  );
}

/** Role names as setRoles accepts them (see ROLE_NAME, MAX_ROLES). */
function checkRoles(roles: unknown): string[] {
  if (!Array.isArray(roles)) throw new UserInputError('roles', 'must be a list of role names');
  const unique = [...new Set<unknown>(roles)];
  for (const r of unique) {
    if (typeof r !== 'string' || !ROLE_NAME.test(r)) {
      throw new UserInputError(
        'roles',
        `${JSON.stringify(String(r)).slice(0, 40)} is not a role name: 1 to 32 of a-z, 0-9, _ . : - starting with a letter or digit`,
      );
    }
  }
  if (unique.length > MAX_ROLES)
    throw new UserInputError(
      'roles',
      `at most ${MAX_ROLES} roles per user (${unique.length} given)`,
    );
  return unique as string[];
}
