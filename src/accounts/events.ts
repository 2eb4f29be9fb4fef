import { EventEmitter } from 'node:events';
import type { AuthMethod } from '../store/engine';
import type { HookName } from './hooks';
import type { BreachCheckFailure } from './password-policy';

/** Why a login did not succeed. The email is never part of an event: logs must not collect it. */
export type LoginFailureReason =
  | 'unknown_email'
  | 'wrong_password'
  | 'no_password'
  | 'throttled'
  | 'invalid_input'
  | 'oauth'
  /** The right password for a disabled account. */
  | 'disabled'
  /** The right password, but accounts.requireVerifiedEmail is on and the address is unproved. */
  | 'unverified'
  /** The credentials changed while the login checked them (ADR 040): no session was made. */
  | 'credentials_changed'
  /** The right password (or provider), but the host app's beforeLogin hook refused (ADR 120). */
  | 'refused';

export type ThrottleScope = 'account' | 'address';

/** Why an OAuth sign-in failed (a fixed vocabulary: logs never carry what the provider sent). */
export type OAuthFailureCause =
  | 'denied'
  | 'provider_error'
  | 'state_mismatch'
  | 'state_missing'
  | 'unverified_email'
  | 'invalid_profile'
  /** The verified email belongs to an account this provider account is not linked to. */
  | 'link_required'
  /** A re-authentication through a provider account that is not linked to the signed-in user. */
  | 'not_linked';

/** A written credential change whose sessions must end (RevocationRetry, ADR 272). */
export type CredentialChange =
  'password-change' | 'password-reset' | 'disable' | 'delete' | 'address-proved';

/** Account-level audit events (the session service emits created/revoked/theft for sessions). */
export interface AuthEventMap {
  registered: [{ userId: string; method: 'password' | 'oauth' }];
  /** `provider`: the OAuth provider's name when `method` is `oauth`. */
  login: [
    {
      userId: string;
      sessionId: string;
      method: AuthMethod;
      remember: boolean;
      ip: string;
      provider?: string;
    },
  ];
  /** `provider` and `cause` (a short fixed phrase, never provider-supplied text) for `oauth`. */
  loginFailed: [
    { reason: LoginFailureReason; ip: string; provider?: string; cause?: OAuthFailureCause },
  ];
  throttled: [{ scope: ThrottleScope; retryAfterMs: number; ip: string }];
  logout: [{ userId: string; sessionId: string }];
  /** A user ended sessions themselves: one (`one`) or every other (`others`). */
  revoked: [{ userId: string; sessionIds: readonly string[]; scope: 'one' | 'others' }];
  passwordChanged: [{ userId: string; revokedSessions: number }];
  /**
   * A password reset was asked for (recorded after the answer, when the address was looked up):
   * `userId` null when no account has the address; `sent` false for none or a disabled one.
   */
  passwordResetRequested: [{ userId: string | null; ip: string; sent: boolean }];
  /** A reset link set a new password; every session and remember-me series ended. */
  passwordReset: [{ userId: string; revokedSessions: number; ip: string }];
  /** A reset link was refused (bad, expired, used, replaced or another kind's token). */
  passwordResetFailed: [{ ip: string }];
  /** A message to a user was handed to the mail server (`ok`) or not; `kind` names it. */
  mailed: [{ userId: string; kind: string; ok: boolean }];
  /** An administrator disabled the user; every session and series ended. */
  disabled: [{ userId: string; revokedSessions: number }];
  /** An administrator enabled a disabled user again; nothing that ended came back. */
  enabled: [{ userId: string }];
  /**
   * The user is gone, with every session, series and linked identity: deleted by an administrator
   * (`admin`) or by the user from /account after re-authentication (`self`).
   */
  deleted: [{ userId: string; revokedSessions: number; by: 'admin' | 'self' }];
  /** An administrator replaced the user's roles (the scope of their next scoped request). */
  rolesChanged: [{ userId: string; roles: readonly string[] }];
  /** The user confirmed their password or a linked provider again: the session got a new id. */
  reauthenticated: [
    {
      userId: string;
      sessionId: string;
      method: 'password' | 'oauth';
      ip: string;
      provider?: string;
    },
  ];
  /**
   * A provider account was linked. `merged`: linked after Holdfast proved the address of an account
   * nobody had proved before; its password, sessions and remember-me series ended (linkVerified).
   */
  identityLinked: [
    {
      userId: string;
      provider: string;
      merged: boolean;
      endedPassword: boolean;
      revokedSessions: number;
      /** The provider's display name ("GitHub"), for the notice mailed to the user. */
      label?: string;
      /**
       * Linked at a provider sign-in whose verified email is the address Holdfast had proved for
       * this password account (ADR 146), not from /account.
       */
      automatic?: boolean;
    },
  ];
  identityUnlinked: [{ userId: string; provider: string }];
  /** A verification message was issued (at registration, or asked for again). Never the token. */
  verificationSent: [{ userId: string; reason: 'registered' | 'requested' }];
  /** The user followed a verification link: the address is proved. */
  emailVerified: [{ userId: string }];
  /**
   * A security notice was mailed to the account's address (ASVS 6.3.7): `kind` is the message
   * (`identity-linked`, `remember-theft`); `sent` false when the mail server refused it.
   */
  notified: [{ userId: string; kind: string; sent: boolean }];
  /** A remember-me token was replayed after rotation: series and sessions were revoked. */
  theft: [{ userId: string; seriesId: string }];
  /**
   * A credential change was written but ending the user's older sessions met a store outage: the
   * request answered 503 and the revocation is retried in the background (ADR 272).
   */
  revocationDeferred: [{ change: CredentialChange; userId: string }];
  /** A deferred revocation went through after `attempts` tries; the change's own event follows. */
  revocationFinished: [{ change: CredentialChange; userId: string; attempts: number }];
  /**
   * A deferred revocation was given up: the node stopped first, or `error` (not an outage) came
   * back. The user's older sessions may still work: `holdfast sessions revoke --user <id>` ends them.
   */
  revocationAbandoned: [
    { change: CredentialChange; userId: string; attempts: number; error?: unknown },
  ];
  /**
   * The host app's breach lookup failed or timed out, and a new password was accepted without it
   * (fail open). `message` is the lookup's error (it never sees the password).
   */
  breachCheckFailed: [{ cause: BreachCheckFailure; message: string }];
  /**
   * A host app hook threw (ADR 120). A before-hook's failure answered 500 and nothing was written;
   * an after-hook's did not undo the action. `error` is what the hook threw (it never saw a password).
   */
  hookFailed: [{ hook: HookName; userId?: string; error: unknown }];
}

/** Plain counters (catbox `stats`), read by metrics/. */
export interface AuthStats {
  registrations: number;
  logins: Record<AuthMethod, number>;
  loginFailures: Record<LoginFailureReason, number>;
  throttled: Record<ThrottleScope, number>;
  logouts: number;
  revocations: number;
  passwordChanges: number;
  thefts: number;
  breachCheckFailures: number;
  /** Messages handed to the mail server, and those that were not, by kind. */
  mailSent: Record<string, number>;
  mailFailed: Record<string, number>;
}

export function emptyAuthStats(): AuthStats {
  return {
    registrations: 0,
    logins: { password: 0, remember: 0, oauth: 0, rotation: 0 },
    loginFailures: {
      unknown_email: 0,
      wrong_password: 0,
      no_password: 0,
      throttled: 0,
      invalid_input: 0,
      oauth: 0,
      disabled: 0,
      unverified: 0,
      credentials_changed: 0,
      refused: 0,
    },
    throttled: { account: 0, address: 0 },
    logouts: 0,
    revocations: 0,
    passwordChanges: 0,
    thefts: 0,
    breachCheckFailures: 0,
    mailSent: {},
    mailFailed: {},
  };
}

/** Emits audit events and keeps their counters in step, so metrics and logs never disagree. */
export class AuthEvents extends EventEmitter<AuthEventMap> {
  readonly stats: AuthStats = emptyAuthStats();

  record<K extends keyof AuthEventMap>(event: K, ...args: AuthEventMap[K]): void {
    const s = this.stats;
    const e = args[0] as Record<string, unknown>;
    switch (event) {
      case 'registered':
        s.registrations++;
        break;
      case 'login':
        s.logins[e.method as AuthMethod]++;
        break;
      case 'loginFailed':
        s.loginFailures[e.reason as LoginFailureReason]++;
        break;
      case 'throttled':
        s.throttled[e.scope as ThrottleScope]++;
        s.loginFailures.throttled++;
        break;
      case 'logout':
        s.logouts++;
        break;
      case 'revoked':
        s.revocations += (e.sessionIds as readonly string[]).length;
        break;
      case 'passwordChanged':
        s.passwordChanges++;
        break;
      case 'theft':
        s.thefts++;
        break;
      case 'breachCheckFailed':
        s.breachCheckFailures++;
        break;
      case 'mailed': {
        const by = e.ok ? s.mailSent : s.mailFailed;
        const kind = e.kind as string;
        by[kind] = (by[kind] ?? 0) + 1;
        break;
      }
    }
    (this.emit as (name: K, ...a: AuthEventMap[K]) => boolean)(event, ...args);
  }
}
