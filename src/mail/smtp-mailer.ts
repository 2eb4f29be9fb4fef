import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { MailSettings } from '../config';
import { MailFailedError } from './errors';
import type { Mailer, MailMessage } from './mailer';

/**
 * Mail through an SMTP server (nodemailer), configured by mail.smtp: a URL
 * (smtps://user:password@host:465) or host/port/secure/user/password. One pooled transport per
 * process; a failure names the server (host:port) and nodemailer's reason, never the password.
 */
export class SmtpMailer implements Mailer {
  readonly transport = 'smtp';
  private readonly transporter: Transporter<SMTPTransport.SentMessageInfo>;
  /** `host:port` for messages; from the settings, never from the URL's credentials. */
  readonly server: string;

  constructor(private readonly settings: MailSettings) {
    const s = settings.smtp;
    const timeouts = {
      connectionTimeout: s.connectTimeout,
      greetingTimeout: s.connectTimeout,
      socketTimeout: s.connectTimeout * 3,
    };
    let options: SMTPTransport.Options;
    if (s.url) {
      const u = new URL(s.url);
      this.server = `${u.hostname}:${u.port || (u.protocol === 'smtps:' ? 465 : 587)}`;
      options = { url: s.url, ...timeouts } as SMTPTransport.Options;
    } else {
      this.server = `${s.host}:${s.port}`;
      options = {
        host: s.host,
        port: s.port,
        secure: s.secure,
        auth: s.user ? { user: s.user, pass: s.password } : undefined,
        ...timeouts,
      };
    }
    // Pooled: connections are reused between messages (a reset burst opens no connection each).
    this.transporter = nodemailer.createTransport({ ...options, pool: true, maxConnections: 2 });
  }

  async send(m: MailMessage): Promise<void> {
    try {
      await this.transporter.sendMail({
        from: this.settings.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        headers: { 'X-Holdfast-Kind': m.kind },
      });
    } catch (err) {
      throw new MailFailedError(
        `the ${m.kind} message was not accepted by the SMTP server ${this.server}: ${reason(err)}`,
        { cause: err },
      );
    }
  }

  async verify(): Promise<void> {
    try {
      // Connects, greets (EHLO, STARTTLS and AUTH when configured) and sends NOOP.
      await this.transporter.verify();
    } catch (err) {
      throw new MailFailedError(`SMTP server ${this.server}: ${reason(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}

/** nodemailer's reason in one line (its messages hold no credentials). */
export function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const text = (e?.message ?? String(err)).split('\n')[0];
  return e?.code && !text.includes(e.code) ? `${e.code} ${text}` : text;
}
