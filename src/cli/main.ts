#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadSettings } from '../config';
import { ConfigError } from '../errors';
import type { PreflightInput } from '../preflight';
import { createServices, Services } from '../server/services';
import { configCheck } from './commands/config-check';
import { preflightCommand } from './commands/preflight';
import { sessionsCount, sessionsList, sessionsRevoke } from './commands/sessions';
import { startCommand } from './commands/start';
import { reportError } from './output';

const USAGE = `usage: holdfast <command> [--config FILE] [--json]
  start                              validate, preflight, then serve (workers)
  preflight [--json]                 run every start-up check once; exit 0, 69 or 78
  config check                       print resolved settings (secrets redacted)
  sessions count                     live sessions (--json: sessions and users)
  sessions list --user ID            a user's live sessions
  sessions revoke --user ID [--session ID]
`;

/** Where a command reads settings from and writes to; tests run commands in-process with their own. */
export interface CliIo {
  readonly env?: NodeJS.ProcessEnv;
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
}

/** Runs a command and returns the process exit code (0, 69 store unreachable, 78 bad settings). */
export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = io.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      user: { type: 'string' },
      session: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals.join(' ');
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 64;
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
        ? await preflightCommand(input, values.json ?? false, out)
        : await startCommand(input, err);
    } catch (e) {
      return reportError(e, err);
    }
  }
  try {
    const settings = loadSettings({ file: values.config, env: io.env });
    if (command === 'config check') return configCheck(settings, values.json ?? false);
    const withServices = async (run: (s: Services) => Promise<number>): Promise<number> => {
      const services = createServices(settings);
      await services.engine.start();
      try {
        return await run(services);
      } finally {
        await services.engine.stop();
      }
    };
    switch (command) {
      case 'sessions count':
        return await withServices((s) => sessionsCount(s, values.json ?? false));
      case 'sessions list':
        if (!values.user) break;
        return await withServices((s) =>
          sessionsList(s, values.user as string, values.json ?? false),
        );
      case 'sessions revoke':
        return await withServices((s) => sessionsRevoke(s, values.user, values.session));
    }
    process.stderr.write(`holdfast: unknown command or missing option: ${command}\n${USAGE}`);
    return 64;
  } catch (err) {
    return reportError(err);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => process.exit(reportError(err)),
  );
}
