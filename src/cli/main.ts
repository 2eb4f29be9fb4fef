#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadSettings } from '../config';
import { ConfigError, ExitCodes } from '../errors';
import type { PreflightInput } from '../preflight';
import { createServices, Services } from '../server/services';
import { configCheck } from './commands/config-check';
import { preflightCommand } from './commands/preflight';
import { sessionsCount, sessionsList, sessionsRevoke } from './commands/sessions';
import { startCommand } from './commands/start';
import { usersCreate, usersEnd, readFirstLine } from './commands/users';
import { Out, reportError } from './output';

const USAGE = `usage: holdfast <command> [--config FILE] [--json]
  start                              validate, preflight, then serve (workers)
  preflight [--json]                 run every start-up check once; exit 0, 69 or 78
  config check                       print resolved settings (secrets redacted)
  sessions count                     live sessions (--json: sessions and users)
  sessions list --user ID            a user's live sessions
  sessions revoke --user ID [--session ID]
  users create --email E             a password account; the password is read from stdin
  users disable --email E            no more sign-in; every session and remember-me series ends
  users delete --email E             remove the user; every session and remember-me series ends
`;

/** Where a command reads settings from and writes to; tests run commands in-process with their own. */
export interface CliIo {
  readonly env?: NodeJS.ProcessEnv;
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
}

/** Options that take a value: ids are base64url, and one random id in 64 starts with '-'. */
const VALUE_OPTIONS = new Set(['--config', '--user', '--session', '--email']);

/** `--session -abc` as `--session=-abc`: parseArgs refuses a value that starts with '-'. */
function joinValues(argv: readonly string[], names: ReadonlySet<string>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (names.has(argv[i]) && i + 1 < argv.length) joined.push(`${argv[i]}=${argv[++i]}`);
    else joined.push(argv[i]);
  }
  return joined;
}

/** Runs a command and returns the process exit code (0, 69 store unreachable, 78 bad settings). */
export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = io.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { values, positionals } = parseArgs({
    args: joinValues(argv, VALUE_OPTIONS),
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      user: { type: 'string' },
      session: { type: 'string' },
      email: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals.join(' ');
  const json = values.json ?? false;
  if (values.help || !command) {
    (values.help ? out : err)(USAGE);
    return values.help ? ExitCodes.OK : ExitCodes.USAGE;
  }
  if (command === 'preflight' || command === 'start') {
    // Invalid settings are reported as the preflight's `settings` lines, like every other check.
    let input: PreflightInput;
    try {
      input = { settings: loadSettings({ file: values.config, env: io.env }) };
    } catch (e) {
      if (!(e instanceof ConfigError)) return reportError(e, err);
      input = { settingsError: e };
    }
    try {
      return command === 'preflight'
        ? await preflightCommand(input, json, out)
        : await startCommand(input, err);
    } catch (e) {
      return reportError(e, err);
    }
  }
  try {
    const settings = loadSettings({ file: values.config, env: io.env });
    if (command === 'config check') return configCheck(settings, json, out);
    const run: Command | undefined = Object.hasOwn(COMMANDS, command)
      ? COMMANDS[command]
      : undefined;
    const missing = run && REQUIRED[command]?.find((name) => !values[name]);
    if (!run || missing) {
      err(`holdfast: ${missing ? `${command} needs --${missing}` : `unknown command: ${command}`}`);
      err(USAGE);
      return ExitCodes.USAGE;
    }
    const services = createServices(settings);
    await services.store.start();
    try {
      return await run(services, values as Options, out);
    } finally {
      await services.store.stop();
    }
  } catch (e) {
    return reportError(e, err);
  }
}

type Options = { json: boolean; user?: string; session?: string; email?: string };
type Command = (services: Services, o: Options, out: Out) => Promise<number>;

/** Commands that need the store; each a line, so the list is the documentation. */
const COMMANDS: Record<string, Command> = {
  'sessions count': (s, o, out) => sessionsCount(s, o.json, out),
  'sessions list': (s, o, out) => sessionsList(s, o.user as string, o.json, out),
  'sessions revoke': (s, o, out) => sessionsRevoke(s, o.user as string, o.session, out),
  'users create': async (s, o, out) =>
    usersCreate(s, o.email as string, await readFirstLine(), o.json, out),
  'users disable': (s, o, out) => usersEnd(s, 'disable', o.email as string, o.json, out),
  'users delete': (s, o, out) => usersEnd(s, 'delete', o.email as string, o.json, out),
};

const REQUIRED: Record<string, readonly (keyof Options)[]> = {
  'sessions list': ['user'],
  'sessions revoke': ['user'],
  'users create': ['email'],
  'users disable': ['email'],
  'users delete': ['email'],
};

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => process.exit(reportError(err)),
  );
}
