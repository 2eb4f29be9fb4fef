/**
 * `users create` on a real terminal: the CLI runs under util-linux `script`, which gives it a
 * pseudo-terminal, so stdin.isTTY is true and raw mode really switches the terminal's echo off.
 * Everything the terminal shows (prompts, echo, output) comes back through script's stdout.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import type { Services } from '../../../src/server/services';
import type { RedisNode } from '../../harness';
import { startRedisCli, stopRedisCli } from '../../support/cli';

const ROOT = path.join(__dirname, '../../..');
let redis: RedisNode;
let env: NodeJS.ProcessEnv;
let services: Services;

beforeAll(async () => {
  ({ redis, env, services } = await startRedisCli());
}, 60_000);

afterAll(() => stopRedisCli({ redis, services }));

/** The CLI on a pseudo-terminal; `screen` is everything the terminal showed so far. */
function onTerminal(args: string[]) {
  const command = [process.execPath, '-r', 'ts-node/register/transpile-only', 'src/cli/main.ts']
    .concat(args)
    .map((a) => `'${a}'`)
    .join(' ');
  // -q no banner, -f flush at once, -e the command's exit code, -c the command; no log file.
  const child: ChildProcessWithoutNullStreams = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'dumb', ...env },
  });
  const term = { screen: '', child };
  child.stdout.on('data', (d: Buffer) => (term.screen += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (term.screen += d.toString('utf8')));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  /** Waits until the terminal shows `text` (10 s at most: ts-node compiles on the first run). */
  const waitFor = async (text: string) => {
    const until = Date.now() + 20_000;
    while (!term.screen.includes(text)) {
      if (Date.now() > until)
        throw new Error(`never saw ${JSON.stringify(text)} in ${JSON.stringify(term.screen)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const type = (keys: string) => child.stdin.write(keys);
  return { term, waitFor, type, exited };
}

test('on a terminal, users create prompts twice with echo off and creates the user', async () => {
  const password = 'typed-on-a-terminal-42';
  const cli = onTerminal(['users', 'create', '--email', 'tty.operator@example.org']);
  await cli.waitFor('Password for tty.operator@example.org: ');
  cli.type(`${password}\r`);
  await cli.waitFor('Repeat the password: ');
  cli.type(`${password}\r`);
  expect(await cli.exited).toBe(0);
  // Nothing typed was echoed: the password never appears on the terminal.
  expect(cli.term.screen).not.toContain(password);
  expect(cli.term.screen).not.toContain('typed-on');
  const id = cli.term.screen.trim().split(/\r?\n/).pop();
  expect(id).toMatch(/^[A-Za-z0-9_-]{10,}$/);
  const login = await services.accounts.login(
    { email: 'tty.operator@example.org', password },
    { ip: '198.51.100.7', userAgent: 'test' },
  );
  expect(login.user.id).toBe(id);
}, 60_000);

test('on a terminal, two different entries are refused (65) and Ctrl-C stops with 130; nothing is created', async () => {
  const differ = onTerminal(['users', 'create', '--email', 'tty.differ@example.org']);
  await differ.waitFor('Password for tty.differ@example.org: ');
  differ.type('first-entry-typed-here\r');
  await differ.waitFor('Repeat the password: ');
  differ.type('second-entry-typed-here\r');
  expect(await differ.exited).toBe(65);
  expect(differ.term.screen).toContain('HF_USER_INVALID password: the two entries differ');
  expect(differ.term.screen).not.toContain('entry-typed');

  const stopped = onTerminal(['users', 'create', '--email', 'tty.stopped@example.org']);
  await stopped.waitFor('Password for tty.stopped@example.org: ');
  stopped.type('half-typ\u0003');
  expect(await stopped.exited).toBe(130);
  expect(stopped.term.screen).toContain('interrupted at the password prompt; nothing was created');
  expect(stopped.term.screen).not.toContain('half-typ');
  for (const email of ['tty.differ@example.org', 'tty.stopped@example.org']) {
    expect(await services.users.findByEmail(email)).toBeNull();
  }
}, 60_000);
