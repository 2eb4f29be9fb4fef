import type { Settings } from '../config';
import { HoldfastError } from '../errors';
import type { ClientInfo, IssuedSession, SessionService } from '../session';
import type { StoredSession } from '../store/engine';
import {
  isAcceptableEmail,
  LoginThrottle,
  MAX_EMAIL_LENGTH,
  normalizeEmail,
  PasswordHasher,
  User,
  UserExistsError,
  UserInputError,
  UserStore,
} from '../users';
import { LoginFailedError, RegistrationThrottledError, ThrottledError } from './errors';
import type { AuthEvents } from './events';

export interface LoginResult {
  readonly user: User;
  readonly issued: IssuedSession;
  /** The remember-me cookie value when `remember` was asked for. */
  readonly rememberToken?: string;
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
}

/** What the account service works on; server/services.ts builds each once. */
export interface AccountDeps {
  readonly settings: Settings;
  readonly sessions: SessionService;
  readonly users: UserStore;
  readonly throttle: LoginThrottle;
  readonly hasher: PasswordHasher;
  readonly events: AuthEvents;
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

  constructor(deps: AccountDeps) {
    ({
      settings: this.settings,
      sessions: this.sessions,
      users: this.users,
      throttle: this.throttle,
      hasher: this.hasher,
      events: this.events,
    } = deps);
  }

  checkPassword(password: unknown, field = 'password'): string {
    const { minLength, maxLength } = this.settings.password;
    if (typeof password !== 'string') throw new UserInputError(field, 'must be text');
    // Counted in code points, so a password of emoji is not judged by its UTF-16 length.
    const length = [...password].length;
    if (length < minLength)
      throw new UserInputError(field, `must be at least ${minLength} characters`);
    if (length > maxLength)
      throw new UserInputError(field, `must be at most ${maxLength} characters`);
    return password;
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
    return this.addUser(this.checkNewAccount(input));
  }

  /**
   * Anonymous registration: cheap checks first (input rules, then the address's registration
   * count, then a taken email), and only then the expensive hash, in the hashing queue's lower lane.
   */
  async register(
    input: NewAccountInput,
    client: ClientInfo,
    current?: StoredSession | null,
  ): Promise<LoginResult> {
    const fields = this.checkNewAccount(input);
    this.hasher.queue.admit('hash');
    const wait = await this.throttle.beginRegistration(client.ip);
    if (wait > 0) throw new RegistrationThrottledError(wait);
    const user = await this.addUser(fields);
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
    // A full hashing queue refuses (503) before the throttle counts this attempt as a failure.
    this.hasher.queue.admit('verify');
    const decision = await this.throttle.begin(email, client.ip);
    if (!decision.allowed) {
      this.events.record('throttled', {
        scope: decision.scope,
        retryAfterMs: decision.retryAfterMs,
        ip: client.ip,
      });
      throw new ThrottledError(decision.retryAfterMs);
    }
    const user = await this.users.findByEmail(email);
    let reason: 'unknown_email' | 'no_password' | 'wrong_password' | null = null;
    if (!user) {
      await this.hasher.verifyDummy(input.password);
      reason = 'unknown_email';
    } else if (!user.passwordHash) {
      await this.hasher.verifyDummy(input.password);
      reason = 'no_password';
    } else {
      const v = await this.hasher.verify(input.password, user.passwordHash);
      if (!v.ok) reason = 'wrong_password';
      else if (v.needsRehash) {
        await this.users.setPasswordHash(
          user.id,
          await this.hasher.hash(input.password),
          user.passwordChangedAt ?? Date.now(),
        );
      }
    }
    if (reason || !user) {
      this.events.record('loginFailed', { reason: reason ?? 'unknown_email', ip: client.ip });
      throw new LoginFailedError();
    }
    await this.throttle.succeeded(email, client.ip);
    await this.endCurrent(current);
    const issued = await this.sessions.create(user.id, client, 'password');
    const rememberToken = input.remember ? await this.sessions.remember(user.id) : undefined;
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
   * session and remember-me series, and replaces the current session by a new id.
   */
  async changePassword(
    current: StoredSession,
    input: { currentPassword: string; newPassword: unknown },
    client: ClientInfo,
  ): Promise<IssuedSession> {
    const user = await this.users.findById(current.userId);
    if (!user)
      throw new HoldfastError('HF_UNAUTHENTICATED', 'the account of this session no longer exists');
    await this.confirmPassword(user, input.currentPassword, client);
    const next = this.checkPassword(input.newPassword, 'newPassword');
    await this.users.setPasswordHash(user.id, await this.hasher.hash(next), Date.now());
    const ended = await this.sessions.revokeAll(user.id, 'password', current.id);
    const issued = await this.sessions.rotate(current, client);
    if (!issued)
      throw new HoldfastError(
        'HF_UNAUTHENTICATED',
        'this session ended while the password changed: log in again',
      );
    this.events.record('passwordChanged', { userId: user.id, revokedSessions: ended.length });
    return issued;
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
    await this.endCurrent(current);
    const issued = await this.sessions.create(user.id, client, 'oauth');
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

  private checkNewAccount(input: NewAccountInput): {
    email: string;
    password: string;
    name: string;
  } {
    return {
      email: this.checkEmail(input.email),
      password: this.checkPassword(input.password),
      name: (input.name ?? '').trim().slice(0, 100),
    };
  }

  private async addUser(fields: { email: string; password: string; name: string }): Promise<User> {
    // A taken email is refused before the hash: the 409 says nothing more than before, sooner.
    if (await this.users.findByEmail(fields.email)) throw new UserExistsError();
    const passwordHash = await this.hasher.hash(fields.password);
    const user = await this.users.create({ email: fields.email, name: fields.name, passwordHash });
    this.events.record('registered', { userId: user.id, method: 'password' });
    return user;
  }

  /**
   * A signed-in user's current password, checked like a login: counted in the same throttle
   * (account and address) before the check, so a stolen session is no unthrottled oracle for the
   * password; past the limit 429 even when it is right; a right one resets the account's count.
   */
  private async confirmPassword(user: User, password: string, client: ClientInfo): Promise<void> {
    const email = normalizeEmail(user.email);
    this.hasher.queue.admit('verify');
    const decision = await this.throttle.begin(email, client.ip);
    if (!decision.allowed) {
      this.events.record('throttled', {
        scope: decision.scope,
        retryAfterMs: decision.retryAfterMs,
        ip: client.ip,
      });
      throw new ThrottledError(decision.retryAfterMs);
    }
    const ok = user.passwordHash
      ? (await this.hasher.verify(password, user.passwordHash)).ok
      : (await this.hasher.verifyDummy(password), false);
    if (!ok) throw new HoldfastError('HF_PASSWORD_MISMATCH', 'currentPassword is wrong');
    await this.throttle.succeeded(email, client.ip);
  }

  /** A new session at every sign-in; the one the browser already had ends (no fixation, V7.2.4). */
  private async endCurrent(current: StoredSession | null | undefined): Promise<void> {
    if (current) await this.sessions.revoke(current.userId, current.id, 'rotation');
  }
}
