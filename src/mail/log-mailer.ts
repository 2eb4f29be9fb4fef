import type { Env } from '../config';
import { ConfigError } from '../errors';
import type { Logger } from '../log/logger';
import type { Mailer, MailMessage } from './mailer';

/**
 * Development only (`make run` with no mail server): each message is written to the log, its text
 * with the link, so the developer can follow it. The link carries a secret token, so outside
 * development this transport refuses to exist (the settings schema refuses it first; this guards
 * a Settings object made by hand).
 */
export class LogMailer implements Mailer {
  readonly transport = 'log';

  constructor(
    private readonly logger: Logger,
    env: Env,
  ) {
    if (env !== 'development') throw logTransportRefused(env);
  }

  async send(m: MailMessage): Promise<void> {
    this.logger.info(
      { mail: m.kind, to: m.to, subject: m.subject, body: m.text },
      `mail (development log transport, not sent): ${m.subject}`,
    );
  }

  async verify(): Promise<void> {}

  async close(): Promise<void> {}
}

export function logTransportRefused(env: string): ConfigError {
  return new ConfigError([
    {
      path: 'mail.transport',
      found: `"log" in env ${env}`,
      expected: 'one of "off", "smtp" (the log transport is for env development only)',
      hint: 'the log transport writes every emailed link (a secret token) to the log: set mail.transport to smtp with mail.smtp.url or mail.smtp.host (or off), or run with env development',
    },
  ]);
}
