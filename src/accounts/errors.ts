import { HoldfastError } from '../errors';

/** Login is waiting out a throttle delay. */
export class ThrottledError extends HoldfastError {
  constructor(readonly retryAfterMs: number) {
    super(
      'HF_LOGIN_THROTTLED',
      'too many failed logins for this account or address: retry after the Retry-After delay',
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
