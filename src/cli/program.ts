import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadSettings, Settings } from '../config';
import { ConfigError, ExitCodes, HoldfastError } from '../errors';
import type { PreflightInput } from '../preflight';
import { createServices, Services } from '../server/services';
import { configCheck } from './commands/config-check';
import { preflightCommand } from './commands/preflight';
import {
  sessionsCount,
  sessionsList,
  sessionsRevoke,
  sessionsRevokeAll,
} from './commands/sessions';
import { startCommand } from './commands/start';
import { storeBalance, storeReshard, storeUpgradeFormat } from './commands/store';
import { usersCreate, usersEnd, usersRoles, usersShow } from './commands/users';
import type { Out } from './output';
import { readNewPassword } from './password';

/** What a command may use: the environment, the two output streams, standard input. */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv | undefined;
  readonly out: Out;
  readonly err: Out;
  readonly stdin: NodeJS.ReadableStream;
  /** Writes a prompt without a line break (stderr). */
  readonly prompt: (text: string) => void;
}

/** Parsed options of a leaf command (commander's camelCase names). */
export interface CommandOptions {
  readonly config?: string;
  readonly json: boolean;
  readonly user?: string;
  readonly session?: string;
  readonly email?: string;
  readonly set?: string;
  readonly yes?: boolean;
  readonly all?: boolean;
  readonly plan?: boolean;
  readonly apply?: boolean;
  readonly shards?: string;
}

interface OptionSpec {
  readonly flags: string;
  readonly description: string;
  /** The option must be given (commander's `mandatory`; every value option needs a value). */
  readonly mandatory?: boolean;
  /** '' is a value (`--set ""`: no roles) rather than a usage error. */
  readonly emptyAllowed?: boolean;
  /**
   * Options of one group are alternatives: exactly one of them is given (checked before the
   * command runs, a usage error otherwise); the usage line shows `(--a <x> | --b <y>)`.
   */
  readonly oneOf?: string;
}

/** One command of the CLI: the table below is the whole command line (docs/cli.md mirrors it). */
export interface CommandSpec {
  /** Words after `holdfast`, e.g. `sessions list`. */
  readonly name: string;
  readonly summary: string;
  readonly options: readonly OptionSpec[];
  /** Rules between options beyond `oneOf`: a usage error's text, or null when they hold. */
  readonly check?: (o: CommandOptions) => string | null;
  readonly run: (ctx: CliContext, o: CommandOptions, name: string) => Promise<number>;
}

const EMAIL: OptionSpec = {
  flags: '--email <address>',
  description: "the account's email address",
  mandatory: true,
};

/** Who a session command is about: a user id, or an account's address (exactly one). */
const WHO_ID: OptionSpec = { flags: '--user <id>', description: 'the user id', oneOf: 'who' };
const WHO_EMAIL: OptionSpec = {
  flags: '--email <address>',
  description: "the account's email address, instead of --user",
  oneOf: 'who',
};
/** `--user` or `--email` as the admin service takes it (the parser made sure one is given). */
const who = (o: CommandOptions) =>
  o.user !== undefined ? { userId: o.user } : { email: o.email as string };

/** Options every command takes, after its own. */
export const COMMON_OPTIONS: readonly OptionSpec[] = [
  {
    flags: '--config <file>',
    description: 'settings file (YAML or JSON); default: HOLDFAST_CONFIG, else none',
  },
  { flags: '--json', description: 'print one JSON document (errors too, on stderr)' },
];

/** Settings as start and preflight take them: invalid settings are a failed `settings` check. */
function preflightInput(ctx: CliContext, o: CommandOptions): PreflightInput {
  try {
    return { settings: loadSettings({ file: o.config, env: ctx.env }) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { settingsError: e };
  }
}

/**
 * A store command: settings, then the services with the store connected for just that long.
 * The in-process store is refused first (requireSharedStore).
 */
function withServices(
  fn: (s: Services, o: CommandOptions, ctx: CliContext) => Promise<number>,
): CommandSpec['run'] {
  return async (ctx, o, name) => {
    const settings = loadSettings({ file: o.config, env: ctx.env });
    requireSharedStore(name, settings);
    const services = createServices(settings);
    await services.store.start();
    try {
      return await fn(services, o, ctx);
    } finally {
      // A message a command caused (`users create` mails a verification link) goes out first:
      // it reads the store, and the process exits right after.
      await services.verification?.idle();
      await services.notifications?.idle();
      // A command's process ends here: a revocation deferred by an outage is the admin's to
      // repeat (the command failed and said so), not a retry against a closed store.
      services.revocations.stop();
      await services.store.stop();
      await services.mailer?.close();
    }
  };
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'start',
    summary: 'validate settings, check the store, fork workers, serve',
    options: [],
    // The primary's lines go to stderr (stdout carries the JSON logs); --json makes each a JSON object.
    run: async (ctx, o) =>
      startCommand(
        preflightInput(ctx, o),
        o.json ? (line) => ctx.err(JSON.stringify({ message: line })) : ctx.err,
      ),
  },
  {
    name: 'preflight',
    summary: 'run every start-up check once and print one line per check; exit 0, 69 or 78',
    options: [],
    run: (ctx, o) => preflightCommand(preflightInput(ctx, o), o.json, ctx.out),
  },
  {
    name: 'config check',
    summary: 'print the resolved settings (secrets redacted, durations as written)',
    options: [],
    run: async (ctx, o) =>
      configCheck(loadSettings({ file: o.config, env: ctx.env }), o.json, ctx.out),
  },
  {
    name: 'sessions count',
    summary: 'live sessions (and users, with --json) across the deployment',
    options: [],
    run: withServices((s, o, ctx) => sessionsCount(s, o.json, ctx.out)),
  },
  {
    name: 'sessions list',
    summary: "a table of one user's live sessions (by id or by email)",
    options: [WHO_ID, WHO_EMAIL],
    run: withServices((s, o, ctx) => sessionsList(s, who(o), o.json, ctx.out)),
  },
  {
    name: 'sessions revoke',
    summary:
      "end one of a user's sessions, all of them, or (--all --yes) everyone's; prints how many ended",
    options: [
      { flags: '--user <id>', description: 'the user id', oneOf: 'scope' },
      { flags: '--session <id>', description: 'only this session (with --user)' },
      {
        flags: '--all',
        description: 'every session and remember-me series of every user (needs --yes)',
        oneOf: 'scope',
      },
      { flags: '--yes', description: 'confirms --all: everyone is signed out' },
    ],
    check: (o) =>
      o.all
        ? o.session !== undefined
          ? '--session goes with --user, not with --all'
          : o.yes
            ? null
            : '--all signs everyone out: confirm it with --yes'
        : o.yes
          ? '--yes confirms --all only'
          : null,
    run: withServices((s, o, ctx) =>
      o.all
        ? sessionsRevokeAll(s, o.json, ctx.out)
        : sessionsRevoke(s, o.user as string, o.session, o.json, ctx.out),
    ),
  },
  {
    name: 'sessions revoke-all',
    summary: 'the same as sessions revoke --all --yes (kept for scripts that use it)',
    options: [{ flags: '--yes', description: 'confirms: everyone is signed out', mandatory: true }],
    run: withServices((s, o, ctx) => sessionsRevokeAll(s, o.json, ctx.out)),
  },
  {
    name: 'store balance',
    summary:
      "shards per master and the busiest master's share; --plan: the slot moves that even them; --apply: make them",
    options: [
      {
        flags: '--plan',
        description: 'print the slot moves that give every master an equal number of shards (±1)',
      },
      {
        flags: '--apply',
        description: 'perform those moves (MIGRATE/SETSLOT), one progress line per slot on stderr',
      },
    ],
    run: withServices((s, o, ctx) =>
      storeBalance(s, o.apply ? 'apply' : o.plan ? 'plan' : 'report', o.json, ctx.out, ctx.err),
    ),
  },
  {
    name: 'store reshard',
    summary:
      'grow the shard count online to a multiple of the recorded one (256 -> 1024); resumes after a crash',
    options: [
      {
        flags: '--shards <n>',
        description: 'the new shard count: a larger multiple of the recorded one',
        mandatory: true,
      },
    ],
    check: (o) =>
      /^[1-9]\d*$/.test(o.shards ?? '') ? null : `--shards takes a whole number, not "${o.shards}"`,
    run: withServices((s, o, ctx) =>
      storeReshard(s, Number(o.shards), o.json, ctx.out, ctx.err, process.stderr),
    ),
  },
  {
    name: 'store upgrade-format',
    summary:
      'write the compact session format from now on (12-byte ids, 330 B per session); refused while an older version is connected',
    options: [],
    run: withServices((s, o, ctx) => storeUpgradeFormat(s, o.json, ctx.out)),
  },
  {
    name: 'users create',
    summary: 'a password account; password from a no-echo prompt, or stdin when not a terminal',
    options: [EMAIL],
    run: withServices((s, o, ctx) =>
      usersCreate(
        s,
        o.email as string,
        () => readNewPassword(ctx, o.email as string),
        o.json,
        ctx.out,
      ),
    ),
  },
  {
    name: 'users disable',
    summary: 'no more sign-in; every session and remember-me series ends',
    options: [EMAIL],
    run: withServices((s, o, ctx) => usersEnd(s, 'disable', o.email as string, o.json, ctx.out)),
  },
  {
    name: 'users enable',
    summary: 'sign-in works again; sessions the disable ended stay ended',
    options: [EMAIL],
    run: withServices((s, o, ctx) => usersEnd(s, 'enable', o.email as string, o.json, ctx.out)),
  },
  {
    name: 'users delete',
    summary: 'remove the user; every session and remember-me series ends',
    options: [EMAIL],
    run: withServices((s, o, ctx) => usersEnd(s, 'delete', o.email as string, o.json, ctx.out)),
  },
  {
    name: 'users roles',
    summary: "print a user's roles (route auth.scope), or replace them with --set",
    options: [
      EMAIL,
      {
        flags: '--set <roles>',
        description: 'comma-separated roles that replace the current ones ("" for none)',
        emptyAllowed: true,
      },
    ],
    run: withServices((s, o, ctx) => usersRoles(s, o.email as string, o.set, o.json, ctx.out)),
  },
  {
    name: 'users show',
    summary: 'id, status, verified, created, live sessions, linked identities and roles',
    options: [EMAIL],
    run: withServices((s, o, ctx) => usersShow(s, o.email as string, o.json, ctx.out)),
  },
];

/** What the group commands (`holdfast sessions`, ...) say in the help. */
const GROUPS: Record<string, string> = {
  config: 'inspect the settings',
  sessions: "count, list and revoke sessions in the shared store (one user's, or everyone's)",
  users: 'create, show, disable, enable and delete accounts, and set their roles',
  store:
    'how the session shards are spread over the Redis Cluster masters, evening them out, and growing their count',
};

/** `--user <id> [--session <id>] [--config <file>] [--json]`: the options part of a usage line. */
export function usageOf(spec: CommandSpec): string {
  const words: string[] = [];
  const groups = new Set<string>();
  for (const o of [...spec.options, ...COMMON_OPTIONS]) {
    if (o.oneOf === undefined) words.push(o.mandatory ? o.flags : `[${o.flags}]`);
    else if (!groups.has(o.oneOf)) {
      groups.add(o.oneOf);
      const alternatives = spec.options.filter((a) => a.oneOf === o.oneOf).map((a) => a.flags);
      words.push(`(${alternatives.join(' | ')})`);
    }
  }
  return words.join(' ');
}

/** Why the options break a rule of the command (`oneOf` groups, then `check`), or null. */
function usageProblem(spec: CommandSpec, o: CommandOptions): string | null {
  const given = (flags: string) =>
    (o as unknown as Record<string, unknown>)[optionKey(flags)] !== undefined;
  const groups = new Set(spec.options.flatMap((a) => (a.oneOf ? [a.oneOf] : [])));
  for (const group of groups) {
    const alternatives = spec.options.filter((a) => a.oneOf === group).map((a) => a.flags);
    const names = alternatives.map((f) => f.split(' ')[0]);
    const count = alternatives.filter(given).length;
    if (count !== 1) return `give exactly one of ${names.join(', ')} (${count} given)`;
  }
  return spec.check?.(o) ?? null;
}

/** commander's attribute name of an option: `--dry-run <x>` is `dryRun`. */
function optionKey(flags: string): string {
  return flags
    .split(' ')[0]
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The package version (dist/cli and src/cli are both two levels below package.json). */
export function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Commander writes blocks ending in a line break; ctx writes one line at a time. */
const lines = (text: string) => text.replace(/\n$/, '').split('\n');

/** An id or address given as an empty string is a usage error, not a lookup of "". */
function nonEmpty(value: string): string {
  if (value === '') throw new InvalidArgumentError('must not be empty.');
  return value;
}

/**
 * The store commands refuse the in-process store: this process would open an empty store of its
 * own, report 0 sessions or no such user, and forget what it created when it exits (ADR 090).
 */
function requireSharedStore(name: string, settings: Settings): void {
  if (settings.store.type !== 'memory') return;
  throw new HoldfastError(
    'HF_STORE_NOT_SHARED',
    `${name} needs the shared store, but store.type is memory: this command's process would ` +
      `have a store of its own that no server sees and that is gone when it exits; ` +
      `fix: run it with the servers' settings (store.type: redis and store.redis.*, e.g. ` +
      `HOLDFAST_STORE__TYPE=redis HOLDFAST_STORE__REDIS__NODES=host:6379, or --config FILE)`,
  );
}

/**
 * The command tree. Commander writes help and usage errors through ctx (so tests see them) and
 * throws instead of exiting; main() maps that to exit 0 (help, version) or 64 (usage).
 */
export function buildProgram(ctx: CliContext, done: (code: number) => void): Command {
  const program = new Command('holdfast')
    .description('Holdfast: sessions and users of a Hapi deployment, from the command line')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help (for a command: holdfast COMMAND --help)')
    .usage('<command> [options]')
    // `holdfast help sessions list` is rewritten to `sessions list --help` by main().
    .helpCommand(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => lines(s).forEach((l) => ctx.out(l)),
      writeErr: (s) => lines(s).forEach((l) => ctx.err(l)),
      outputError: (s, write) => write(`holdfast: ${s.replace(/^error: /, '')}`),
    });
  program.addHelpText(
    'after',
    `\nCommands (holdfast help COMMAND, or holdfast COMMAND --help, for each):\n${COMMANDS.map(
      (c) => `  holdfast ${c.name} ${usageOf(c)}\n      ${c.summary}`,
    ).join(
      '\n',
    )}\n\nExit codes: 0 ok, 1 not found (sessions revoke --session), 64 usage, 65 input rejected, 69 store unreachable, 70 crash loop, 78 settings or check failed, 130 interrupted.`,
  );
  const groups = new Map<string, Command>();
  for (const spec of COMMANDS) {
    const words = spec.name.split(' ');
    let parent = program;
    if (words.length === 2) {
      let group = groups.get(words[0]);
      if (!group) {
        group = program.command(words[0]).description(GROUPS[words[0]]);
        groups.set(words[0], group);
      }
      parent = group;
    }
    const cmd = parent
      .command(words[words.length - 1])
      .description(spec.summary)
      .usage(usageOf(spec));
    for (const o of [...spec.options, ...COMMON_OPTIONS]) {
      const option = new Option(o.flags, o.description).makeOptionMandatory(o.mandatory ?? false);
      // A value is required: '' is not one, unless the option says so.
      if (option.required && !o.emptyAllowed) option.argParser(nonEmpty);
      cmd.addOption(option);
    }
    cmd.showHelpAfterError(
      `usage: holdfast ${spec.name} ${usageOf(spec)}\n(holdfast ${spec.name} --help for more)`,
    );
    cmd.action(async (o: CommandOptions) => {
      const problem = usageProblem(spec, o);
      // A usage error like commander's own: one line, the usage line, exit 64, nothing run.
      if (problem !== null) cmd.error(problem, { exitCode: ExitCodes.USAGE });
      done(await spec.run(ctx, o, spec.name));
    });
  }
  for (const [name, group] of groups) {
    group.showHelpAfterError(`(holdfast ${name} --help lists its commands)`);
  }
  program.showHelpAfterError('(holdfast --help lists every command)');
  // Set last, so the groups keep their own list: the top level lists every command with its usage.
  program.configureHelp({ visibleCommands: () => [] });
  return program;
}
