/**
 * A real SMTP server for tests (the npm package smtp-server on 127.0.0.1, a free port): every
 * message Holdfast sends arrives here over SMTP and is parsed with mailparser, so a test reads
 * what a mail client would. No mock of nodemailer anywhere.
 *
 *   const smtp = await startSmtpServer();
 *   settings = testSettings({ mail: smtp.mailSettings('http://holdfast.test') });
 *   const mail = await smtp.nextTo('ada@example.com');
 *   const link = linkIn(mail, '/reset-password');
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), lower-cased. */
  readonly to: readonly string[];
  /** Envelope sender (MAIL FROM). */
  readonly from: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The X-Holdfast-Kind header (reset, password-changed, ...). */
  readonly kind: string;
  /** The whole message as received. */
  readonly raw: string;
  readonly receivedAt: number;
}

export interface SmtpServerOptions {
  /** Require this login (AUTH PLAIN/LOGIN) from the client. */
  readonly auth?: { readonly user: string; readonly pass: string };
}

export interface TestSmtpServer {
  readonly host: string;
  readonly port: number;
  /** Every message received, in order. */
  readonly received: readonly ReceivedMail[];
  /** The next message to `address` not yet taken by nextTo (waits up to timeoutMs for it). */
  nextTo(address: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** Fails when a message to `address` arrives (or is waiting) within `ms`. */
  expectNoMailTo(address: string, ms?: number): Promise<void>;
  /** The `mail` settings that send here. */
  mailSettings(linkBase: string): object;
  stop(): Promise<void>;
}

export async function startSmtpServer(opts: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const received: Array<ReceivedMail & { taken: boolean }> = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    // Plain SMTP on loopback: no certificate to manage; login allowed without TLS (tests only).
    secure: false,
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    logger: false,
    // stop() ends connections a client left open (a pooled mailer not closed) after this long,
    // rather than smtp-server's 30 s default.
    closeTimeout: 500,
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass)
        return callback(null, { user: auth.username });
      return callback(new Error('invalid login'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            received.push({
              to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              kind: String(parsed.headers.get('x-holdfast-kind') ?? ''),
              raw,
              receivedAt: Date.now(),
              taken: false,
            });
            for (const w of [...waiters]) w();
            callback();
          })
          .catch(callback);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  const take = (address: string) => {
    const m = received.find((r) => !r.taken && r.to.includes(address.toLowerCase()));
    if (m) m.taken = true;
    return m;
  };

  return {
    host: '127.0.0.1',
    port,
    received,
    nextTo(address, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = take(address);
          if (!m) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no message to ${address} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async expectNoMailTo(address, ms = 300) {
      await new Promise((r) => setTimeout(r, ms));
      const m = received.find((r) => !r.taken && r.to.includes(address.toLowerCase()));
      if (m) throw new Error(`unexpected message to ${address}: ${m.subject}`);
    },
    mailSettings(linkBase) {
      return {
        transport: 'smtp',
        from: 'Holdfast Test <no-reply@holdfast.test>',
        linkBase,
        smtp: {
          host: '127.0.0.1',
          port,
          secure: false,
          ...(opts.auth ? { user: opts.auth.user, password: opts.auth.pass } : {}),
        },
      };
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a message's text that starts with `path` after the origin (or any link). */
export function linkIn(mail: ReceivedMail, path = ''): URL {
  for (const m of mail.text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    const url = new URL(m[0]);
    if (url.pathname.endsWith(path) || url.pathname.startsWith(path)) return url;
  }
  throw new Error(`no link to ${path || 'anywhere'} in the message "${mail.subject}"`);
}
