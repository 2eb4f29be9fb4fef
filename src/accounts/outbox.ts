import type { Logger } from '../log/logger';
import { MailFailedError, Mailer, MailMessage } from '../mail';

/** A duration as a message says it: `24 hours`, `30 minutes`, `45 seconds`. */
export function readableTtl(ms: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (ms % 86_400_000 === 0 && ms >= 2 * 86_400_000) return unit(ms / 86_400_000, 'day');
  if (ms % 3_600_000 === 0) return unit(ms / 3_600_000, 'hour');
  if (ms % 60_000 === 0) return unit(ms / 60_000, 'minute');
  return unit(Math.round(ms / 1000), 'second');
}

/** What a failed send leaves in the log: the kind and the mail server's reason, never the body. */
export function mailFailureFields(kind: string, err: unknown): Record<string, string> {
  // A MailFailedError names the server and nodemailer's reason; anything else (a host app's
  // mailer) only by its class, since its message might quote the message and its link.
  const reason =
    err instanceof MailFailedError
      ? err.message
      : `${(err as Error)?.name ?? 'Error'} from the mailer`;
  return { mail: kind, reason };
}

/**
 * Sends off the request path: the caller never waits for the mail server and a failure never
 * fails the request that caused it; it is one log line with the kind, never the token or link.
 * Resolves to whether the message was handed over (tests and audit events use it).
 */
export function sendInBackground(
  mailer: Mailer,
  message: MailMessage,
  logger: Logger | undefined,
): Promise<boolean> {
  return mailer.send(message).then(
    () => true,
    (err: unknown) => {
      logger?.warn(mailFailureFields(message.kind, err), 'mail failed');
      return false;
    },
  );
}
