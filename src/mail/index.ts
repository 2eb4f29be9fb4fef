import type { Settings } from '../config';
import { createLogger, Logger } from '../log/logger';
import { LogMailer } from './log-mailer';
import type { Mailer } from './mailer';
import { SmtpMailer } from './smtp-mailer';

export type { Mailer, MailMessage } from './mailer';
export { SmtpMailer } from './smtp-mailer';
export { LogMailer, logTransportRefused } from './log-mailer';
export { MailFailedError } from './errors';
export { mailLink } from './links';
export { DEFAULT_TEMPLATES, escapeHtml, MailRenderer } from './templates';
export type { MailContent, MailTemplate, MailTemplates, MailValues } from './templates';

/** The mailer mail.transport names; null when mail is off. `logger` serves the log transport. */
export function createMailer(settings: Settings, logger?: Logger): Mailer | null {
  switch (settings.mail.transport) {
    case 'smtp':
      return new SmtpMailer(settings.mail);
    case 'log':
      return new LogMailer(
        logger ??
          createLogger(settings.log.level, undefined, {
            format: settings.log.format,
            env: settings.env,
          }),
        settings.env,
      );
    default:
      return null;
  }
}
