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
