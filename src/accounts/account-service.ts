import type { Settings } from '../config';
import { HoldfastError } from '../errors';
import { CredentialsChangedError } from '../session';
import type { ClientInfo, IssuedSession, SessionService } from '../session';
import type { StoredSession } from '../store/engine';
import {
  isAcceptableEmail,
  LoginThrottle,
  MAX_EMAIL_LENGTH,
  normalizeEmail,
  PasswordHasher,
  User,
  UserInputError,
  UserStore,
} from '../users';
import { AccountDisabledError, LoginFailedError, ThrottledError } from './errors';
import type { AuthEvents } from './events';
import { BreachedPasswordLookup, PasswordContext, PasswordPolicy } from './password-policy';

export interface LoginResult {
  readonly user: User;
  readonly issued: IssuedSession;
  /** The remember-me cookie value when `remember` was asked for. */
  readonly rememberToken?: string;
}

/** A provider's word about who signed in (OAuth). */
export interface OAuthProfile {
  readonly provider: string;
  readonly id: string;
  readonly email?: string;
  readonly emailVerified: boolean;
  readonly name?: string;
}

/** What the account service works on; server/services.ts builds each once. */
export interface AccountDeps {
  readonly settings: Settings;
  readonly sessions: SessionService;
  readonly users: UserStore;
  readonly throttle: LoginThrottle;
  readonly hasher: PasswordHasher;
  readonly events: AuthEvents;
  /** The host app's breach lookup (k-anonymity); none by default. See PasswordPolicy. */
  readonly breachedPassword?: BreachedPasswordLookup;
  /** How long the breach lookup may take before the password is accepted without it. */
  readonly breachedPasswordTimeoutMs?: number;
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

  constructor(deps: AccountDeps) {
    ({
      settings: this.settings,
      sessions: this.sessions,
      users: this.users,
      throttle: this.throttle,
      hasher: this.hasher,
      events: this.events,
    } = deps);
    this.passwords = new PasswordPolicy({
      minLength: this.settings.password.minLength,
      maxLength: this.settings.password.maxLength,
      breached: deps.breachedPassword,
      breachedTimeoutMs: deps.breachedPasswordTimeoutMs,
      onLookupFailed: (cause, message) =>
        this.events.record('breachCheckFailed', { cause, message }),
    });
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
  async createUser(input: { email: unknown; password: unknown; name?: string }): Promise<User> {
    const email = this.checkEmail(input.email);
    const name = (input.name ?? '').trim().slice(0, 100);
    const password = await this.checkPassword(input.password, 'password', { email, name });
    const passwordHash = await this.hasher.hash(password);
    const user = await this.users.create({ email, name, passwordHash });
    this.events.record('registered', { userId: user.id, method: 'password' });
    return user;
  }

  async register(
    input: { email: unknown; password: unknown; name?: string },
    client: ClientInfo,
    current?: StoredSession | null,
  ): Promise<LoginResult> {
    const user = await this.createUser(input);
    await this.endCurrent(current);
    const issued = await this.sessions.create(user.id, client, 'password');
    this.events.record('login', {
      userId: user.id,
      sessionId: issued.session.id,
      method: 'password',
      remember: false,
      ip: client.ip,
    });
    return { user, issued };
  }

  async login(
    input: { email: string; password: string; remember?: boolean },
    client: ClientInfo,
    current?: StoredSession | null,
  ): Promise<LoginResult> {
    const email = normalizeEmail(input.email);
    const decision = await this.throttle.begin(email, client.ip);
    if (!decision.allowed) {
      this.events.record('throttled', {
        scope: decision.scope,
        retryAfterMs: decision.retryAfterMs,
        ip: client.ip,
      });
      throw new ThrottledError(decision.retryAfterMs);
    }
    // Read once, before the slow verification: the session is created under this credential
    // version, and the store refuses it if a change raised the user's epoch meanwhile (ADR 040).
    const user = await this.users.findByEmail(email);
    let reason: 'unknown_email' | 'no_password' | 'wrong_password' | 'disabled' | null = null;
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
      // Disabled is said only to someone who gave the right password.
      throw reason === 'disabled' ? new AccountDisabledError() : new LoginFailedError();
    }
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
    return { user, issued, rememberToken };
  }

  async logout(current: StoredSession | null, rememberCookie: string | undefined): Promise<void> {
    await this.sessions.forget(rememberCookie);
    if (!current) return;
    await this.sessions.revoke(current.userId, current.id, 'logout');
    this.events.record('logout', { userId: current.userId, sessionId: current.id });
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

  async revokeOthers(current: StoredSession): Promise<string[]> {
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
   */
  async changePassword(
    current: StoredSession,
    input: { currentPassword: string; newPassword: unknown },
    client: ClientInfo,
  ): Promise<IssuedSession> {
    const user = await this.users.findById(current.userId);
    if (!user || user.disabled)
      throw new HoldfastError(
        'HF_UNAUTHENTICATED',
        'the account of this session no longer exists or is disabled',
      );
    const ok = user.passwordHash
      ? (await this.hasher.verify(input.currentPassword, user.passwordHash)).ok
      : (await this.hasher.verifyDummy(input.currentPassword), false);
    if (!ok) throw new HoldfastError('HF_PASSWORD_MISMATCH', 'currentPassword is wrong');
    const next = await this.checkPassword(input.newPassword, 'newPassword', user);
    const version = await this.users.updatePassword(
      user.id,
      { expectedVersion: user.credentialVersion },
      await this.hasher.hash(next),
      { bumpVersion: true, changedAt: Date.now() },
    );
    if (version === null)
      throw new CredentialsChangedError(
        'the password was changed elsewhere (or the account disabled) while this change ran: sign in again with the current password',
      );
    const ended = await this.sessions.revokeAll(user.id, 'password', current.id, version);
    // Every series ended above, this device's too: the new session belongs to none.
    const issued = await this.sessions.rotate(current, client, {
      credentialVersion: version,
      seriesId: null,
    });
    if (!issued)
      throw new HoldfastError(
        'HF_UNAUTHENTICATED',
        'this session ended while the password changed: log in again',
      );
    this.events.record('passwordChanged', { userId: user.id, revokedSessions: ended.length });
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
    const ended = await this.sessions.revokeAll(userId, 'admin', undefined, version);
    this.events.record('disabled', { userId, revokedSessions: ended.length });
    return true;
  }

  /**
   * Deletes a user: the record and email go, every session and remember-me series ends, and the
   * credential epoch rises past every version the user had (nothing made before can appear
   * later). False when there is no such user.
   */
  async deleteUser(userId: string): Promise<boolean> {
    const version = await this.users.delete(userId);
    if (version === null) return false;
    const ended = await this.sessions.revokeAll(userId, 'admin', undefined, version + 1);
    this.events.record('deleted', { userId, revokedSessions: ended.length });
    return true;
  }

  /**
   * OAuth sign-in: a linked identity logs its user in; otherwise a verified email links to the
   * account with that email, or creates one. An unverified email never links or creates (account
   * takeover). Linking to an account whose email nobody had proved yet ends every session and
   * remember-me series it had: whoever registered that address without owning it is signed out.
   * A session the browser already had ends (no fixation); the new one has method `oauth`.
   */
  async oauthLogin(
    profile: OAuthProfile,
    client: ClientInfo,
    current?: StoredSession | null,
  ): Promise<LoginResult> {
    const provider = profile.provider;
    let user = await this.users.findByIdentity(provider, profile.id);
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
          `${provider} gave no verified email address for this account: verify your address with ${provider}, then sign in again`,
        );
      }
      const email = this.checkEmail(profile.email);
      user = await this.users.findByEmail(email);
      if (!user) {
        try {
          user = await this.users.create({
            email,
            name: (profile.name ?? '').trim().slice(0, 100),
            passwordHash: null,
            emailVerified: true,
          });
          this.events.record('registered', { userId: user.id, method: 'oauth' });
        } catch (err) {
          // Lost a race with a concurrent registration of the same email: link to that account.
          user = await this.users.findByEmail(email);
          if (!user) throw err;
        }
      } else if (!user.emailVerified) {
        await this.users.markEmailVerified(user.id);
        const ended = await this.sessions.revokeAll(user.id, 'revoke');
        if (ended.length)
          this.events.record('revoked', { userId: user.id, sessionIds: ended, scope: 'others' });
      }
      if (!(await this.users.linkIdentity(provider, profile.id, user.id))) {
        user = (await this.users.findByIdentity(provider, profile.id)) ?? user;
      }
    }
    if (user.disabled) {
      this.events.record('loginFailed', { reason: 'disabled', ip: client.ip, provider });
      throw new AccountDisabledError();
    }
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
    return { user, issued };
  }

  /** A new session at every sign-in; the one the browser already had ends (no fixation, V7.2.4). */
  private async endCurrent(current: StoredSession | null | undefined): Promise<void> {
    if (current) await this.sessions.revoke(current.userId, current.id, 'rotation');
  }
}
