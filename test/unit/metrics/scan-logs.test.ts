import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { main, scanDirectory, scanText } from '../../../scripts/scan-logs';
import { createLogger } from '../../../src/log/logger';
import { formatToken, newId, newSecret } from '../../../src/session/token';

const PASSWORD = 'correct horse battery staple 42';

/** One request's worth of things a careless log line could carry. */
function leakyRecord() {
  const token = formatToken(17, newId(), newSecret());
  return {
    token,
    record: {
      msg: 'login',
      password: PASSWORD,
      req: {
        method: 'POST',
        url: '/auth/login',
        headers: {
          cookie: `holdfast=${token}`,
          authorization: 'Bearer abcdefghijklmnopqrstuvwxyz',
        },
      },
      res: { headers: { 'set-cookie': `holdfast=${token}; HttpOnly` } },
    },
  };
}

async function writeLog(file: string, logger: pino.Logger, record: object): Promise<void> {
  logger.info(record);
  logger.flush();
  await new Promise((r) => setTimeout(r, 50));
  expect(fs.existsSync(file)).toBe(true);
}

describe('scan-logs', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-logs-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds nothing in what the Holdfast logger writes (redaction works)', async () => {
    const file = path.join(dir, 'redacted.log');
    const dest = pino.destination({ dest: file, sync: true });
    const { record } = leakyRecord();
    await writeLog(file, createLogger('info', dest), record);
    fs.writeFileSync(path.join(dir, 'canaries.txt'), `${PASSWORD}\n`);
    const result = scanDirectory(dir);
    expect(result.files).toBe(1);
    expect(result.findings).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toContain('[redacted]');
  });

  it('finds the token, password, cookie and authorization of an unredacted logger, masked', async () => {
    const file = path.join(dir, 'leaky.log');
    const { record, token } = leakyRecord();
    await writeLog(file, pino(pino.destination({ dest: file, sync: true })), record);
    fs.writeFileSync(path.join(dir, 'canaries.txt'), `${PASSWORD}\n`);
    const { findings } = scanDirectory(dir);
    const kinds = new Set(findings.map((f) => f.kind));
    expect(kinds).toEqual(
      new Set([
        'session or remember-me token',
        'secret field',
        'holdfast cookie',
        'bearer credential',
        'canary (a test password or secret)',
      ]),
    );
    for (const f of findings) {
      expect(f.file).toBe('leaky.log');
      expect(f.line).toBe(1);
      expect(f.excerpt).not.toContain(token.split('.')[2]);
      expect(f.excerpt).not.toContain(PASSWORD);
    }
  });

  it('recognises raw header lines and passwords in URLs', () => {
    const text = [
      'GET /auth/me HTTP/1.1',
      'Cookie: __Host-holdfast=abcdefghijklmnop',
      'Authorization: Basic dXNlcjpwYXNzd29yZA==',
      'connecting to redis://default:s3cr3t-pw@10.0.0.1:6379',
    ].join('\n');
    const kinds = scanText('x.log', text).map((f) => `${f.line} ${f.kind}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        '2 cookie header',
        '2 holdfast cookie',
        '3 authorization header',
        '4 password in URL',
      ]),
    );
  });

  it('recognises an account token (emailed link) alone and in a URL, once per line, not a session token twice', () => {
    const token = `${newId()}.${'s'.repeat(43)}`;
    const text = [
      JSON.stringify({ msg: 'reset', detail: token }),
      `open https://app.example.com/reset-password?token=${token}`,
      `open https://app.example.com/verify?x=1&token=abcdefgh12345`,
      `cookie value 12.${token}`,
    ].join('\n');
    const kinds = scanText('x.log', text).map((f) => `${f.line} ${f.kind}`);
    expect(kinds).toEqual([
      '1 account token (emailed link)',
      '2 account token (emailed link)',
      '2 token in URL',
      '3 token in URL',
      '4 session or remember-me token',
    ]);
  });

  it('does not flag redacted fields, session ids alone, hashes or ordinary lines', () => {
    const lines = [
      JSON.stringify({ password: '[redacted]', cookie: '[redacted]', token: '[redacted]' }),
      JSON.stringify({
        msg: 'session revoked',
        sessionId: newId(),
        userId: 'u-1',
        reason: 'logout',
      }),
      JSON.stringify({ msg: 'store', keyPrefix: 'hf', shard: 17, hash: 'a'.repeat(64) }),
      'holdfast_sessions_active 42',
    ];
    expect(scanText('ok.log', lines.join('\n'))).toEqual([]);
  });

  it('exits 1 on findings, 0 when clean, 2 when fewer log files than required', () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(main([dir, '--min-files', '1'])).toBe(2);
      fs.writeFileSync(path.join(dir, 'a.log'), '{"msg":"fine"}\n');
      expect(main([dir, '--min-files', '1'])).toBe(0);
      fs.mkdirSync(path.join(dir, 'nested'));
      fs.writeFileSync(path.join(dir, 'nested', 'b.log'), `{"password":"${PASSWORD}"}\n`);
      expect(main([dir])).toBe(1);
      expect(main([])).toBe(2);
    } finally {
      write.mockRestore();
      out.mockRestore();
    }
  });
});
