import { HoldfastError } from '../errors';

/** A message could not be handed to the mail server. The text names the server, never the body. */
export class MailFailedError extends HoldfastError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HF_MAIL_FAILED', message, options);
  }
}
