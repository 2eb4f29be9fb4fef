import cluster from 'node:cluster';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import YAML from 'yaml';
import { durationPaths } from '../../../src/cli/settings-view';
import { main } from '../../../src/cli/main';
import { CHECK_IDS } from '../../../src/preflight';
import { runCli } from '../../support/cli';

/** Runs the CLI in-process with its own environment, collecting what it prints. */
const run = (argv: string[], env: NodeJS.ProcessEnv) => runCli(argv, env);

// Development defaults (memory store), with ports that cannot collide with anything.
const DEV = { HOLDFAST_HTTP__PORT: '0', HOLDFAST_METRICS__PORT: '0' };

test('preflight with no configuration: development, memory store, exit 0, one line per check', async () => {
  const r = await run(['preflight'], DEV);
  expect(r.code).toBe(0);
  expect(r.out).toHaveLength(CHECK_IDS.length + 1);
  expect(r.out.slice(0, -1).map((l) => l.split(/\s+/)[1])).toEqual([...CHECK_IDS]);
  expect(r.out[r.out.length - 1]).toMatch(
    /^preflight: 6 passed, 0 warnings, 0 failed, 0 not yet, \d+ skipped: ok$/,
  );
  expect(r.out[0]).toMatch(/^PASS settings +found valid: env development, store memory/);
  expect(r.out.find((l) => l.includes('store.persistence'))).toMatch(
    /^SKIP .*store\.type is memory/,
  );
});

test('preflight --json prints one document with every check', async () => {
  const r = await run(['preflight', '--json'], DEV);
  expect(r.code).toBe(0);
  expect(r.out).toHaveLength(1);
  const doc = JSON.parse(r.out[0]);
  expect(doc.ok).toBe(true);
  expect(doc.checks.map((c: { id: string }) => c.id)).toEqual([...CHECK_IDS]);
});

test('invalid settings: exit 78, one settings line per problem, every other check skipped', async () => {
  const r = await run(['preflight'], {
    ...DEV,
    HOLDFAST_HTTP__PORT: 'eighty',
    HOLDFAST_SESSION__IDLE_TTL: 'forever',
  });
  expect(r.code).toBe(78);
  const settings = r.out.filter((l) => /^FAIL settings /.test(l));
  expect(settings).toHaveLength(2);
  expect(settings.join('\n')).toContain(
    'http.port: found "eighty" (from HOLDFAST_HTTP__PORT); expected a number',
  );
  expect(settings.join('\n')).toContain(
    'session.idleTtl: found "forever" (from HOLDFAST_SESSION__IDLE_TTL)',
  );
  expect(r.out.filter((l) => l.startsWith('SKIP'))).toHaveLength(CHECK_IDS.length - 1);
});

test('an unreadable settings file is a settings line too (78), not a crash', async () => {
  const r = await run(['preflight', '--config', '/nonexistent/holdfast.yaml'], DEV);
  expect(r.code).toBe(78);
  expect(r.out[0]).toBe(
    'FAIL settings                  settings file (--config / HOLDFAST_CONFIG): found /nonexistent/holdfast.yaml (ENOENT); expected a readable YAML or JSON file holding a mapping; fix: check the path and that this user may read it',
  );
});

test('start with invalid settings prints the same lines as preflight, exits 78 and forks nothing', async () => {
  const env = { ...DEV, HOLDFAST_HTTP__PORT: 'eighty' };
  let forks = 0;
  const onFork = () => forks++;
  cluster.on('fork', onFork);
  try {
    const pre = await run(['preflight'], env);
    const start = await run(['start'], env);
    expect(start.code).toBe(78);
    expect(start.err).toEqual(pre.out);
    expect(forks).toBe(0);
  } finally {
    cluster.off('fork', onFork);
  }
});

test('start --json writes each of its stderr lines as a JSON object, and forks nothing on bad settings', async () => {
  const env = { ...DEV, HOLDFAST_HTTP__PORT: 'eighty' };
  const pre = await run(['preflight'], env);
  const start = await run(['start', '--json'], env);
  expect(start.code).toBe(78);
  expect(start.out).toEqual([]);
  expect(start.err.map((l) => JSON.parse(l) as unknown)).toEqual(
    pre.out.map((message) => ({ message })),
  );
});

test('start with Redis settings but no environment named fails (78) with one line saying to set HOLDFAST_ENV', async () => {
  // Without it this would start as development: in-process store, published cookie password.
  const env = { ...DEV, HOLDFAST_STORE__REDIS__NODES: '127.0.0.1:6379' };
  let forks = 0;
  const onFork = () => forks++;
  cluster.on('fork', onFork);
  try {
    const start = await run(['start'], env);
    expect(start.code).toBe(78);
    expect(forks).toBe(0);
    expect(start.err.filter((l) => /^FAIL /.test(l))).toEqual([
      'FAIL settings                  env: found no environment named (no env setting, HOLDFAST_ENV or NODE_ENV), while store.redis.nodes is set (from HOLDFAST_STORE__REDIS__NODES); expected an environment named whenever a Redis store is configured: production, development or test; fix: set HOLDFAST_ENV=production (or env: production in the settings file); unnamed, Holdfast would run as development, on the in-process store with the published development cookie password',
    ]);
  } finally {
    cluster.off('fork', onFork);
  }
});

test("process.password-cost: a cost below OWASP's minimum passes outside production, saying so", async () => {
  const r = await run(['preflight'], { ...DEV, HOLDFAST_PASSWORD__COST: '4096' });
  expect(r.code).toBe(0);
  expect(r.out.find((l) => l.split(/\s+/)[1] === 'process.password-cost')).toBe(
    "PASS process.password-cost     found password.cost 4096 (scrypt N = 2^12, r = 8, p = 1): below OWASP's minimum, allowed in development only; expected at least 131072 (N = 2^17, OWASP's minimum for scrypt) in production",
  );
});

test('the memory store with several workers is refused: each worker would hold its own sessions', async () => {
  const env = { ...DEV, HOLDFAST_WORKERS: '2' };
  const r = await run(['preflight'], env);
  expect(r.code).toBe(78);
  let forks = 0;
  const onFork = () => forks++;
  cluster.on('fork', onFork);
  try {
    const start = await run(['start'], env);
    expect(start.code).toBe(78);
    expect(start.err).toEqual(r.out);
    expect(forks).toBe(0);
  } finally {
    cluster.off('fork', onFork);
  }
  expect(r.out.find((l) => l.includes('store.memory-engine'))).toMatch(
    /^FAIL store\.memory-engine +found store\.type memory with 2 workers: each worker would have its own sessions; .*fix: set workers to 1 \(HOLDFAST_WORKERS=1\)/,
  );
});

test('no command or an unknown one prints the usage and exits 64; a missing option is named', async () => {
  for (const argv of [[], ['sessions', 'frobnicate'], ['sessions', 'list']]) {
    const r = await run(argv, DEV);
    expect(r.code).toBe(64);
    expect(r.out).toEqual([]);
    expect(r.err.join('\n')).toMatch(/sessions list \(--user <id>|holdfast sessions --help/);
  }
  expect((await run(['sessions', 'list'], DEV)).err).toEqual([
    'holdfast: give exactly one of --user, --email (0 given)',
    'usage: holdfast sessions list (--user <id> | --email <address>) [--config <file>] [--json]',
    '(holdfast sessions list --help for more)',
  ]);
});

test.each([
  [
    ['sessions', 'list', '--user', 'u1', '--email', 'a@example.org'],
    'give exactly one of --user, --email (2 given)',
  ],
  [['sessions', 'revoke'], 'give exactly one of --user, --all (0 given)'],
  [
    ['sessions', 'revoke', '--user', 'u1', '--all', '--yes'],
    'give exactly one of --user, --all (2 given)',
  ],
  [['sessions', 'revoke', '--all'], '--all signs everyone out: confirm it with --yes'],
  [['sessions', 'revoke', '--user', 'u1', '--yes'], '--yes confirms --all only'],
  [
    ['sessions', 'revoke', '--all', '--yes', '--session', 'AAAAAAAAAAAAAAAAAAAAAA'],
    '--session goes with --user, not with --all',
  ],
])('%j is a usage error (64) before settings or the store are read: %s', async (argv, message) => {
  // HOLDFAST_HTTP__PORT is invalid: had the command run, it would exit 78.
  const r = await run(argv, { ...DEV, HOLDFAST_HTTP__PORT: 'x' });
  expect(r.code).toBe(64);
  expect(r.out).toEqual([]);
  expect(r.err[0]).toBe(`holdfast: ${message}`);
  expect(r.err[1]).toMatch(/^usage: holdfast sessions (list|revoke) \(/);
});

test('the alternatives are each accepted: the command runs (and reaches the store check)', async () => {
  for (const argv of [
    ['sessions', 'list', '--email', 'a@example.org'],
    ['sessions', 'list', '--user', 'u1'],
    ['sessions', 'revoke', '--all', '--yes'],
    ['sessions', 'revoke', '--user', 'u1', '--session', 'AAAAAAAAAAAAAAAAAAAAAA'],
    ['users', 'enable', '--email', 'a@example.org'],
    ['users', 'show', '--email', 'a@example.org'],
  ]) {
    const r = await run(argv, { ...DEV, HOLDFAST_ENV: 'development' });
    expect({ argv, code: r.code }).toEqual({ argv, code: 78 });
    expect(r.err[0]).toMatch(/^holdfast: HF_STORE_NOT_SHARED /);
  }
});

test('config check prints resolved settings with secrets redacted (0), or every problem (78)', async () => {
  const ok = await run(['config', 'check', '--json'], {
    ...DEV,
    // A Redis setting needs a named environment (one that is not named is refused).
    HOLDFAST_ENV: 'development',
    HOLDFAST_STORE__REDIS__PASSWORD: 'redis-secret',
  });
  expect(ok.code).toBe(0);
  const shown = JSON.parse(ok.out.join('\n'));
  expect(shown.store.redis.password).toBe('[redacted]');
  expect(shown.cookie.password).toBe('[redacted]');
  expect(ok.out.join('\n')).not.toContain('redis-secret');
  const bad = await run(['config', 'check'], {
    ...DEV,
    HOLDFAST_SESSION__IDLE_TTL: 'soon',
    HOLDFAST_HTTP__PORT: '-1',
  });
  expect(bad.code).toBe(78);
  expect(bad.err).toHaveLength(2);
  expect(bad.err.join('\n')).toMatch(
    /session\.idleTtl: found "soon" \(from HOLDFAST_SESSION__IDLE_TTL\)/,
  );
});

test('an id that starts with "-" is a value, not an option (one random id in 64 does)', async () => {
  const r = await run(
    ['sessions', 'revoke', '--user', '-user', '--session', '-AAAAAAAAAAAAAAAAAAAAA'],
    { ...DEV, HOLDFAST_ENV: 'development' },
  );
  // Parsed as values: the command got as far as the store check (78), no usage error (64).
  expect(r.code).toBe(78);
  expect(r.err[0]).toMatch(/^holdfast: HF_STORE_NOT_SHARED sessions revoke needs the shared store/);
});

describe('help, version and usage errors', () => {
  const version = (
    JSON.parse(readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

  test('-h and --help print every command with its usage line on stdout and exit 0', async () => {
    for (const flag of ['-h', '--help']) {
      const r = await run([flag], DEV);
      expect(r).toMatchObject({ code: 0, err: [] });
      const text = r.out.join('\n');
      expect(text).toMatch(/^Usage: holdfast <command> \[options\]/);
      for (const line of [
        'holdfast sessions revoke (--user <id> | --all) [--session <id>] [--yes] [--config <file>] [--json]',
        'holdfast users create --email <address> [--config <file>] [--json]',
        'holdfast config check [--config <file>] [--json]',
      ]) {
        expect(text).toContain(line);
      }
    }
  });

  test('--version and -V print the version of package.json and exit 0', async () => {
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      expect(await run([flag], DEV)).toEqual({ code: 0, out: [version], err: [] });
    }
  });

  test('per-command help: `X --help`, `X -h` and `help X` print that command, exit 0', async () => {
    const a = await run(['sessions', 'revoke', '--help'], DEV);
    expect(a.code).toBe(0);
    expect(a.out[0]).toBe(
      'Usage: holdfast sessions revoke (--user <id> | --all) [--session <id>] [--yes] [--config <file>] [--json]',
    );
    expect(a.out.join('\n')).toMatch(/--session <id> +only this session/);
    expect(await run(['sessions', 'revoke', '-h'], DEV)).toEqual(a);
    expect(await run(['help', 'sessions', 'revoke'], DEV)).toEqual(a);
    // Help never needs valid settings or a store.
    expect((await run(['users', 'create', '-h'], { ...DEV, HOLDFAST_HTTP__PORT: 'x' })).code).toBe(
      0,
    );
  });

  test.each([
    [['preflight', '--frob'], "holdfast: unknown option '--frob'", 'holdfast preflight'],
    [
      ['sessions', 'list', '--user'],
      "holdfast: option '--user <id>' argument missing",
      'holdfast sessions list',
    ],
    [
      ['users', 'create', '--email', ''],
      "holdfast: option '--email <address>' argument '' is invalid. must not be empty.",
      'holdfast users create',
    ],
    [
      ['config', 'check', 'extra'],
      "holdfast: too many arguments for 'check'. Expected 0 arguments but got 1.",
      'holdfast config check',
    ],
    [['--nope'], "holdfast: unknown option '--nope'", null],
    [['frobnicate'], "holdfast: unknown command 'frobnicate'", null],
  ])(
    '%j exits 64 with one line naming the problem, then the usage line; no stack trace',
    async (argv, first, usage) => {
      const r = await run(argv, DEV);
      expect(r.code).toBe(64);
      expect(r.out).toEqual([]);
      expect(r.err[0]).toBe(first);
      if (usage) expect(r.err[1].startsWith(`usage: ${usage} `)).toBe(true);
      expect(r.err.join('\n')).not.toMatch(/\n\s+at |Error:/);
    },
  );
});

describe('store commands refuse the in-process store (HF_STORE_NOT_SHARED, 78)', () => {
  test.each([
    [['sessions', 'count']],
    [['sessions', 'list', '--user', 'u1']],
    [['sessions', 'revoke', '--user', 'u1']],
    [['users', 'create', '--email', 'ops@example.org']],
    [['users', 'disable', '--email', 'ops@example.org']],
    [['users', 'delete', '--email', 'ops@example.org']],
  ])('%j', async (argv) => {
    let read = false;
    const stdin = Readable.from(
      (function* () {
        read = true;
        yield 'a-password-that-would-be-lost\n';
      })(),
    );
    const r = await main(argv, {
      env: DEV,
      stdin,
      out: () => {},
      err: (l) => errors.push(l),
    });
    expect(r).toBe(78);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^holdfast: HF_STORE_NOT_SHARED ${argv.slice(0, 2).join(' ')} needs the shared store, but store.type is memory: .*fix: .*HOLDFAST_STORE__TYPE=redis`,
      ),
    );
    expect(read).toBe(false); // users create never asked for a password
  });
  const errors: string[] = [];
  beforeEach(() => (errors.length = 0));

  test('with --json the error is one JSON line on stderr, and stdout stays empty', async () => {
    const r = await run(['users', 'create', '--email', 'ops@example.org', '--json'], DEV);
    expect(r.code).toBe(78);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(JSON.parse(r.err[0])).toEqual({
      error: {
        code: 'HF_STORE_NOT_SHARED',
        message: expect.stringContaining('store.type is memory'),
      },
      exit: 78,
    });
  });
});

test('config check prints durations as written in settings, and its output reads back as the same settings', async () => {
  const env = {
    ...DEV,
    HOLDFAST_SESSION__IDLE_TTL: '45m',
    HOLDFAST_SHUTDOWN__TIMEOUT: '90s',
    HOLDFAST_STORE__REDIS__DURABILITY__TIMEOUT: '1500ms',
    HOLDFAST_ENV: 'development', // a Redis setting needs a named environment
  };
  const r = await run(['config', 'check'], env);
  expect(r.code).toBe(0);
  const shown = YAML.parse(r.out.join('\n'));
  expect(shown.session).toMatchObject({
    idleTtl: '45m',
    absoluteTtl: '7d',
    renewAfter: '5m',
    rememberTtl: '30d',
  });
  expect(shown.shutdown).toEqual({ drainDelay: '5s', timeout: '90s' });
  expect(shown.store.redis.durability.timeout).toBe('1500ms');
  // No duration is left as a bare number of milliseconds.
  const paths = durationPaths();
  expect(paths).toEqual(
    expect.arrayContaining([
      'session.idleTtl',
      'auth.reauthWindow',
      'store.redis.durability.timeout',
    ]),
  );
  expect(paths.length).toBeGreaterThanOrEqual(15);
  for (const p of paths) {
    const value = p.split('.').reduce((n: Record<string, unknown>, k) => n[k] as never, shown);
    expect({ p, value: typeof value }).toEqual({ p, value: 'string' });
  }
  const json = JSON.parse((await run(['config', 'check', '--json'], env)).out.join('\n'));
  expect(json).toEqual(shown);
  // Written to a file (with the redacted password put back), it loads as the same settings.
  const dir = mkdtempSync(path.join(tmpdir(), 'hf-cli-'));
  const file = path.join(dir, 'settings.yaml');
  writeFileSync(file, r.out.join('\n').replace('"[redacted]"', 'x'.repeat(40)));
  const again = await run(['config', 'check', '--config', file], DEV);
  expect(again.code).toBe(0);
  expect(YAML.parse(again.out.join('\n'))).toEqual(shown);
});
