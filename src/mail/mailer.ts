/**
 * One outgoing message. `kind` names what it is (`reset`, `password-changed`, ...) for logs and
 * metrics; it is never the recipient or anything from the body.
 */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly kind: string;
}

/**
 * Where mail goes: a real SMTP server (SmtpMailer) or, in development only, the log (LogMailer).
 * The account features take this interface, so a host app may pass its own (an API-based service).
 */
export interface Mailer {
  /** `smtp`, `log`, or the host app's own name: said in logs and preflight. */
  readonly transport: string;
  send(message: MailMessage): Promise<void>;
  /** Preflight: can a message be handed over? (SMTP: connect, greet, NOOP.) Throws when not. */
  verify(): Promise<void>;
  close(): Promise<void>;
}
