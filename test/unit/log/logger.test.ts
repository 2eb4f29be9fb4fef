import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { chooseLogFormat } from '../../../src/log/logger';
import { canary } from '../../harness/logs';

/**
 * log.format: readable lines for a person at a terminal, JSON for pipes and production. The
 * terminal is real: util-linux `script` runs the child on a pseudo-terminal, so stdout.isTTY is
 * what the kernel says, not a flag the test sets.
 */

const ROOT = path.join(__dirname, '../../..');
const SECRET = 'pty-secret-must-not-show';
canary(SECRET);

describe('chooseLogFormat', () => {
  it.each([
    ['auto', 'development', true, 'pretty'],
    ['auto', 'test', true, 'pretty'],
    ['auto', 'development', false, 'json'],
    ['auto', 'production', true, 'json'],
    ['json', 'development', true, 'json'],
    ['pretty', 'production', false, 'pretty'],
  ] as const)('%s, env %s, isTTY %s: %s', (format, env, isTTY, expected) => {
    expect(chooseLogFormat(format, env, isTTY)).toBe(expected);
  });
});

/** Runs log-once.ts on a pipe, or on a pseudo-terminal under `script`; returns what it wrote. */
function logOnce(tty: boolean, env: Record<string, string>): string {
  const node = [
    process.execPath,
    '-r',
    'ts-node/register/transpile-only',
    'test/unit/log/log-once.ts',
  ];
  const quoted = node.map((a) => `'${a}'`).join(' ');
  const [cmd, args] = tty ? ['script', ['-qec', quoted, '/dev/null']] : [node[0], node.slice(1)];
  const res = spawnSync(cmd, args as string[], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TERM: 'xterm',
      LOG_SECRET: SECRET,
      ...env,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(res.status).toBe(0);
  return res.stdout.replace(/\u001b\[[0-9;]*m/g, '').replace(/\r/g, '');
}

describe('on a real terminal and on a pipe', () => {
  jest.setTimeout(60_000);

  it('development on a terminal: one readable line, the secret redacted', () => {
    const out = logOnce(true, { LOG_ENV: 'development' });
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello from the logger /m);
    expect(out).toContain('"path":"/auth/login"');
    expect(out).toContain('"password":"[redacted]"');
    expect(out).not.toContain(SECRET);
    expect(out.trimStart().startsWith('{')).toBe(false);
  });

  it('development on a pipe: JSON', () => {
    const out = logOnce(false, { LOG_ENV: 'development' });
    const line = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 30, msg: 'hello from the logger', password: '[redacted]' });
  });

  it('production on a terminal: still JSON, unless log.format says pretty', () => {
    const json = logOnce(true, { LOG_ENV: 'production' });
    expect(JSON.parse(json.trim())).toMatchObject({ msg: 'hello from the logger' });
    const pretty = logOnce(false, { LOG_ENV: 'production', LOG_FORMAT: 'pretty' });
    expect(pretty).toMatch(/INFO: hello from the logger/);
    expect(pretty).not.toContain(SECRET);
  });
});
