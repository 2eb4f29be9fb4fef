/**
 * The mail foundation against a real SMTP server on loopback (test/support/smtp-server.ts): the
 * SMTP transport delivers text + HTML with the kind header, logs in when told, and its preflight
 * NOOP fails on a closed port with one setting/found/expected/fix line; the development log
 * transport writes the link and exists nowhere but in development.
 */
import net from 'node:net';
import { loadSettings, redactedSettings } from '../../../src/config';
import { ConfigError, HoldfastError } from '../../../src/errors';
import { createLogger } from '../../../src/log/logger';
import { LogMailer, MailFailedError, mailLink, SmtpMailer } from '../../../src/mail';
import { mailCheck } from '../../../src/preflight/checks/mail-checks';
import type { PreflightContext } from '../../../src/preflight/context';
import { rejectionOf } from '../../support/errors';
import { startSmtpServer, TestSmtpServer } from '../../support/smtp-server';

jest.setTimeout(30_000);

const settingsFor = (mail: object, env = 'test') =>
  loadSettings({ env: { NODE_ENV: env }, overrides: { mail } });

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let smtp: TestSmtpServer;
let authed: TestSmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
  authed = await startSmtpServer({ auth: { user: 'holdfast', pass: 'smtp-secret-pw' } });
});
afterAll(async () => {
  await smtp?.stop();
  await authed?.stop();
});

test('the SMTP transport delivers subject, text, HTML, From and the kind header', async () => {
  const s = settingsFor(smtp.mailSettings('https://app.example.com'));
  const mailer = new SmtpMailer(s.mail);
  try {
    await mailer.send({
      to: 'Ada@Example.com',
      subject: 'Hello',
      text: 'plain body https://app.example.com/x?token=abc',
      html: '<p>html body</p>',
      kind: 'reset',
    });
    const m = await smtp.nextTo('ada@example.com');
    expect(m).toMatchObject({
      subject: 'Hello',
      kind: 'reset',
      from: 'no-reply@holdfast.test',
      to: ['ada@example.com'],
    });
    expect(m.text.trim()).toBe('plain body https://app.example.com/x?token=abc');
    expect(m.html).toContain('<p>html body</p>');
  } finally {
    await mailer.close();
  }
});

test('with mail.smtp.user/password it logs in; a wrong password is HF_MAIL_FAILED naming the server, not the password', async () => {
  const good = new SmtpMailer(settingsFor(authed.mailSettings('https://a.example')).mail);
  await good.verify();
  await good.send({ to: 'bo@example.com', subject: 's', text: 't', html: 'h', kind: 'k' });
  expect((await authed.nextTo('bo@example.com')).subject).toBe('s');
  await good.close();

  const base = authed.mailSettings('https://a.example') as { smtp: object };
  const wrong = new SmtpMailer(
    settingsFor({ ...base, smtp: { ...base.smtp, password: 'not-the-password' } }).mail,
  );
  const err = await rejectionOf(wrong.verify());
  expect(err).toBeInstanceOf(MailFailedError);
  expect((err as HoldfastError).code).toBe('HF_MAIL_FAILED');
  expect((err as Error).message).toContain(`SMTP server 127.0.0.1:${authed.port}`);
  expect((err as Error).message).not.toContain('not-the-password');
  await wrong.close();
});

test('a mail.smtp.url is used as given (credentials included) and the server is named without them', async () => {
  const url = `smtp://holdfast:smtp-secret-pw@127.0.0.1:${authed.port}`;
  const s = settingsFor({ transport: 'smtp', linkBase: 'https://a.example', smtp: { url } });
  const mailer = new SmtpMailer(s.mail);
  expect(mailer.server).toBe(`127.0.0.1:${authed.port}`);
  await mailer.send({ to: 'cy@example.com', subject: 'via url', text: 't', html: 'h', kind: 'k' });
  expect((await authed.nextTo('cy@example.com')).subject).toBe('via url');
  await mailer.close();
});

test('preflight mail.smtp: NOOP against the server passes; a closed port is one transient fail line', async () => {
  const ok = await mailCheck.run({
    settings: settingsFor(smtp.mailSettings('https://a.example')),
    options: {},
  } as PreflightContext);
  expect(ok).toMatchObject({
    status: 'pass',
    observed: `SMTP server 127.0.0.1:${smtp.port} answered NOOP`,
  });

  const port = await closedPort();
  const settings = settingsFor({
    transport: 'smtp',
    linkBase: 'https://a.example',
    smtp: { host: '127.0.0.1', port },
  });
  const started = Date.now();
  const out = await mailCheck.run({ settings, options: {} } as PreflightContext);
  expect(Date.now() - started).toBeLessThan(5000);
  expect(out).toMatchObject({
    status: 'fail',
    transient: true,
    subject: 'mail.smtp',
    expected: `an SMTP server at 127.0.0.1:${port} that accepts a connection and NOOP`,
  });
  const o = out as { observed: string; hint: string };
  expect(o.observed).toMatch(new RegExp(`^SMTP server 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  expect(o.hint).toMatch(/mail\.smtp\.url/);
});

test('preflight mail.smtp: off passes and says reset is not offered', async () => {
  const out = await mailCheck.run({ settings: settingsFor({}), options: {} } as PreflightContext);
  expect(out).toMatchObject({ status: 'pass' });
  expect((out as { observed: string }).observed).toMatch(/password reset is not offered/);
});

describe('the development log transport', () => {
  test('writes each message with its link to the log in development', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l: string) => lines.push(l) });
    const mailer = new LogMailer(logger, 'development');
    const link = mailLink('http://localhost:3000', '/reset-password', { token: 'abc.def' });
    await mailer.send({
      to: 'a@example.com',
      subject: 'Reset',
      text: `open ${link}`,
      html: '',
      kind: 'reset',
    });
    const line = JSON.parse(lines[0]);
    expect(line).toMatchObject({ mail: 'reset', to: 'a@example.com', subject: 'Reset' });
    expect(line.body).toBe('open http://localhost:3000/reset-password?token=abc.def');
  });

  test.each(['test', 'production'] as const)(
    'is refused in %s: the schema and the class both say so',
    (env) => {
      const err = (() => {
        try {
          new LogMailer(createLogger('silent'), env);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('HF_CONFIG_INVALID');
      expect((err as ConfigError).problems[0]).toMatchObject({
        path: 'mail.transport',
        found: `"log" in env ${env}`,
      });
    },
  );

  test('production settings with mail.transport log fail at load with setting, found, expected and fix', () => {
    const env = {
      HOLDFAST_ENV: 'production',
      HOLDFAST_MAIL__TRANSPORT: 'log',
      HOLDFAST_MAIL__LINK_BASE: 'https://app.example.com',
      HOLDFAST_COOKIE__PASSWORD: 'x'.repeat(40),
      HOLDFAST_STORE__REDIS__NODES: '10.0.0.1:6379',
    };
    let err: unknown;
    try {
      loadSettings({ env });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('HF_CONFIG_INVALID');
    expect((err as ConfigError).problems).toEqual([
      {
        path: 'mail.transport',
        found: '"log" (from HOLDFAST_MAIL__TRANSPORT)',
        expected: 'one of "off", "smtp"',
        hint: expect.stringMatching(
          /^the log transport writes every emailed link \(a secret token\) to the log/,
        ),
      },
    ]);
    // Development accepts it, with a link base by default.
    expect(loadSettings({ env: { NODE_ENV: 'development' } }).mail).toMatchObject({
      transport: 'log',
      linkBase: 'http://localhost:3000',
    });
  });
});

describe('settings', () => {
  test.each([
    ['https://app.example.com/', 'https://app.example.com'],
    ['https://app.example.com/base/', 'https://app.example.com/base'],
    ['http://localhost:3000', 'http://localhost:3000'],
  ])('mail.linkBase %s is kept as %s', (given, kept) => {
    expect(settingsFor({ ...smtp.mailSettings(given) }).mail.linkBase).toBe(kept);
  });

  test.each([
    'app.example.com',
    '/reset',
    'javascript:alert(1)',
    'ftp://app.example.com',
    'https://app.example.com/?next=x',
    'https://app.example.com/#x',
    'https://user:pw@app.example.com',
  ])('mail.linkBase %s is refused', (value) => {
    expect(() => settingsFor(smtp.mailSettings(value))).toThrow(
      /mail\.linkBase: .*expected an absolute http\(s\) URL/,
    );
  });

  test('mail on without mail.linkBase, or smtp with neither url nor host, is refused', () => {
    expect(() => settingsFor({ transport: 'smtp', smtp: { host: 'h' } })).toThrow(
      /mail\.linkBase: found nothing .*expected a value/,
    );
    expect(() => settingsFor({ transport: 'smtp', linkBase: 'https://a.example' })).toThrow(
      /mail\.smtp: found neither mail\.smtp\.url nor mail\.smtp\.host/,
    );
  });

  test('config check output (redactedSettings) hides the SMTP password and URL', () => {
    const s = settingsFor({
      transport: 'smtp',
      linkBase: 'https://a.example',
      smtp: { host: 'smtp.example.com', user: 'u', password: 'hunter2-secret' },
    });
    const shown = redactedSettings(s) as { mail: { smtp: Record<string, unknown> } };
    expect(shown.mail.smtp).toMatchObject({
      host: 'smtp.example.com',
      user: 'u',
      password: '[redacted]',
    });
    const viaUrl = settingsFor({
      transport: 'smtp',
      linkBase: 'https://a.example',
      smtp: { url: 'smtps://u:hunter2-secret@smtp.example.com:465' },
    });
    expect(JSON.stringify(redactedSettings(viaUrl))).not.toContain('hunter2');
  });

  test('the SMTP password and URL are secrets: an invalid one is shown as its length only', () => {
    let message = '';
    try {
      settingsFor({
        transport: 'smtp',
        linkBase: 'https://a.example',
        smtp: { url: 'http://u:hunter2-secret@h', password: 'hunter2-secret', user: 'u' },
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/mail\.smtp\.url: found a secret of 25 characters/);
    expect(message).not.toContain('hunter2');
  });
});
