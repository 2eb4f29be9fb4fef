import { HoldfastError } from '../errors';
import type { SessionService } from '../session';
import type { StoredSession } from '../store/engine';
import { LinkedIdentity, User, UserInputError, UserStore } from '../users';
import type { AccountService } from './account-service';
import { AccountDisabledError } from './errors';

/** Which user an administrator means: the id, or the email address (any spelling). */
export type UserRef = { readonly userId: string } | { readonly email: string };

/** What `holdfast users show` and `admin.show` say about a user: never a hash or a token. */
export interface AccountSummary {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly status: 'enabled' | 'disabled';
  readonly emailVerified: boolean;
  /** ISO 8601. */
  readonly createdAt: string;
  /** Live sessions now (an expired one that was not swept yet is not counted). */
  readonly sessions: number;
  readonly identities: readonly LinkedIdentity[];
  readonly roles: readonly string[];
}

/**
 * What an administrator does to accounts, by user id or email: the adapter the CLI
 * (`holdfast users ...`, `holdfast sessions ...`) and host apps (`server.plugins.holdfast.admin`)
 * share, over the account and session services. Each answers false / null / 0 when there is no
 * such user, like the service; a malformed email is HF_USER_INVALID. See docs/adr/150.
 */
export class AccountAdmin {
  constructor(
    private readonly accounts: AccountService,
    private readonly sessions: SessionService,
  ) {}

  private get users(): UserStore {
    return this.accounts.users;
  }

  /** The user, or null: `{ email }` is checked and normalised first (HF_USER_INVALID if malformed). */
  async find(ref: UserRef): Promise<User | null> {
    if ('userId' in ref) {
      if (typeof ref.userId !== 'string' || ref.userId === '')
        throw new UserInputError('userId', 'must be a user id');
      return this.users.findById(ref.userId);
    }
    return this.users.findByEmail(this.accounts.checkEmail(ref.email));
  }

  /** No more sign-in; every session and remember-me series ends at once. */
  async disable(ref: UserRef): Promise<boolean> {
    const user = await this.find(ref);
    return !!user && this.accounts.disableUser(user.id);
  }

  /** Sign-in works again; what the disable ended stays ended. */
  async enable(ref: UserRef): Promise<boolean> {
    const user = await this.find(ref);
    return !!user && this.accounts.enableUser(user.id);
  }

  /** The record, its email index, linked identities and roles go; every session and series ends. */
  async delete(ref: UserRef): Promise<boolean> {
    const user = await this.find(ref);
    return !!user && this.accounts.deleteUser(user.id, 'admin');
  }

  /**
   * Ends one session of the user (`sessionId`), or every session and remember-me series. The
   * number ended (0 for an unknown user). The account stays usable: a sign-in makes a new session.
   */
  async revokeSessions(ref: UserRef, sessionId?: string): Promise<number> {
    const user = await this.find(ref);
    if (!user) return 0;
    if (sessionId !== undefined)
      return (await this.sessions.revoke(user.id, sessionId, 'admin')) ? 1 : 0;
    return (await this.sessions.revokeAll(user.id, 'admin')).length;
  }

  /** The user's live sessions (most recent last), or null for an unknown user. */
  async listSessions(ref: UserRef): Promise<StoredSession[] | null> {
    const user = await this.find(ref);
    return user ? this.sessions.list(user.id) : null;
  }

  /** The account as an administrator sees it, or null. */
  async show(ref: UserRef): Promise<AccountSummary | null> {
    const user = await this.find(ref);
    if (!user) return null;
    const [sessions, identities] = await Promise.all([
      this.sessions.list(user.id),
      this.users.listIdentities(user.id),
    ]);
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      status: user.disabled ? 'disabled' : 'enabled',
      emailVerified: user.emailVerified,
      createdAt: new Date(user.createdAt).toISOString(),
      sessions: sessions.length,
      identities,
      roles: [...user.roles],
    };
  }
}

/**
 * A user deletes their own account (/account, DELETE /auth/account): only within
 * `auth.reauthWindow` of a password or provider confirmation (HF_REAUTH_REQUIRED otherwise, so a
 * stolen session alone cannot erase the account). A session read just before the account was
 * disabled is refused with HF_ACCOUNT_DISABLED: a disabled account is the administrators' to
 * delete. Every session and series ends; the audit event is `deleted` with `by: 'self'`.
 */
export async function deleteOwnAccount(
  accounts: AccountService,
  current: StoredSession,
): Promise<void> {
  accounts.requireRecent(current);
  const user = await accounts.users.findById(current.userId);
  if (!user)
    throw new HoldfastError('HF_UNAUTHENTICATED', 'the account of this session no longer exists');
  if (user.disabled) throw new AccountDisabledError();
  if (!(await accounts.deleteUser(user.id, 'self')))
    throw new HoldfastError('HF_UNAUTHENTICATED', 'the account of this session no longer exists');
}
