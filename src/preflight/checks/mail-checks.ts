import type { Settings } from '../../config';
import { logTransportRefused, SmtpMailer } from '../../mail';
import type { CheckDefinition } from '../context';
import { fail, pass } from '../types';

/**
 * mail.transport: off passes (nothing is mailed, password reset is not offered); log only in
 * development; smtp connects to the server, greets it (STARTTLS and AUTH when configured) and
 * sends NOOP, so a wrong host, port, TLS mode or password fails at start, not at the first reset.
 */
export const mailCheck: CheckDefinition = {
  id: 'mail.smtp',
  summary:
    'When mail.transport is smtp, the SMTP server accepts a connection, the TLS and login settings, and NOOP; the log transport only in development.',
  gate: 'settings',
  async run(ctx) {
    const s = ctx.settings as Settings;
    const m = s.mail;
    if (m.transport === 'off')
      return pass('mail.transport off: nothing is mailed, password reset is not offered', 'n/a');
    if (m.transport === 'log') {
      if (s.env !== 'development') {
        const p = logTransportRefused(s.env).problems[0];
        return fail(p.found, p.expected, p.hint, { subject: p.path });
      }
      return pass('log transport: messages and their links go to the log (development)', 'n/a');
    }
    const mailer = new SmtpMailer(m);
    const expected = `an SMTP server at ${mailer.server} that accepts a connection and NOOP`;
    try {
      await mailer.verify();
      return pass(`SMTP server ${mailer.server} answered NOOP`, expected);
    } catch (err) {
      return fail(
        (err as Error).message,
        expected,
        'check mail.smtp.url (or mail.smtp.host, port, secure, user, password) and that the server accepts connections from this host; HOLDFAST_MAIL__TRANSPORT=off turns mail off',
        { transient: true, subject: 'mail.smtp' },
      );
    } finally {
      await mailer.close();
    }
  },
};
