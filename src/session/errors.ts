import { HoldfastError } from '../errors';

/**
 * The store refused a session or remember-me series because the user's credentials changed after
 * they were read (a password change, disable or delete raised the credential epoch, ADR 040): the
 * sign-in that was checking the old password must not leave a session behind.
 */
export class CredentialsChangedError extends HoldfastError {
  constructor(
    message = 'the password changed while signing in: sign in again with the new password',
  ) {
    super('HF_CREDENTIALS_CHANGED', message);
  }
}
