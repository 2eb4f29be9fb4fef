import { HoldfastError } from '../errors';

/** Login (or a current-password confirmation) is waiting out a throttle delay. */
export class ThrottledError extends HoldfastError {
  constructor(readonly retryAfterMs: number) {
    super(
      'HF_LOGIN_THROTTLED',
      'too many failed logins for this account or address: retry after the Retry-After delay',
    );
  }
}

/** This address has registered `throttle.registrations` accounts within `throttle.window`. */
export class RegistrationThrottledError extends HoldfastError {
  constructor(readonly retryAfterMs: number) {
    super(
      'HF_REGISTRATION_THROTTLED',
      'too many registrations from this address: retry after the Retry-After delay',
    );
  }
}

export class LoginFailedError extends HoldfastError {
  constructor() {
    // One message for unknown email and wrong password: login does not reveal which accounts exist.
    super('HF_LOGIN_FAILED', 'the email address or password is wrong');
  }
}

/** The right password for a disabled account: said only to someone who knew the password. */
export class AccountDisabledError extends HoldfastError {
  constructor() {
    super('HF_ACCOUNT_DISABLED', 'this account is disabled: ask the site administrators');
  }
}

/** A sensitive change without a password (or provider) confirmation within auth.reauthWindow. */
export class ReauthRequiredError extends HoldfastError {
  constructor(readonly windowMs: number) {
    super(
      'HF_REAUTH_REQUIRED',
      `confirm your password (or sign in again with a linked provider) first: this change is allowed for ${readableWindow(windowMs)} after that (auth.reauthWindow)`,
    );
  }
}

/** `5 minutes`, `30 seconds`: a duration as a page says it. */
export function readableWindow(ms: number): string {
  if (ms % 60_000 === 0) return ms === 60_000 ? '1 minute' : `${ms / 60_000} minutes`;
  return `${Math.round(ms / 1000)} seconds`;
}

/**
 * An emailed link's token that does not work, whatever the reason (unknown, expired, used,
 * replaced, another kind, tampered, ended by a sign-in or password change): one code and one
 * message, so the answer tells nobody which. Nothing was changed.
 */
export class AccountTokenInvalidError extends HoldfastError {
  constructor() {
    super(
      'HF_ACCOUNT_TOKEN_INVALID',
      'this link is not valid: it has expired, was already used, or was replaced by a newer one. Ask for a new one.',
    );
  }
}

/**
 * The right password, but accounts.requireVerifiedEmail is on and the address is unproved: said
 * only to someone who gave the right password (like HF_ACCOUNT_DISABLED).
 */
export class EmailUnverifiedError extends HoldfastError {
  constructor() {
    super(
      'HF_EMAIL_UNVERIFIED',
      'confirm your email address first: follow the link we mailed you, or ask for a new one',
    );
  }
}

/** "Send the verification message again" past throttle.verifyPerAccount or verifyPerAddress. */
export class VerifyThrottledError extends HoldfastError {
  constructor(readonly retryAfterMs: number) {
    super(
      'HF_VERIFY_THROTTLED',
      'a verification message was asked for too often: retry after the Retry-After delay',
    );
  }
}
