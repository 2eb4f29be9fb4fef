#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadSettings } from '../config';
import { createServices, Services } from '../server/services';
import { configCheck } from './commands/config-check';
import { sessionsCount, sessionsList, sessionsRevoke } from './commands/sessions';
import { reportError } from './output';

const USAGE = `usage: holdfast <command> [--config FILE] [--json]
  start                              validate, preflight, then serve
  config check                       print resolved settings (secrets redacted)
  sessions count                     live sessions (--json: sessions and users)
  sessions list --user ID            a user's live sessions
  sessions revoke --user ID [--session ID]
`;

/** Runs a command and returns the process exit code (0, 69 store unreachable, 78 bad settings). */
export async function main(argv: string[]): Promise<number> {
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
  try {
    const settings = loadSettings({ file: values.config });
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
