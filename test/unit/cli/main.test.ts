import cluster from 'node:cluster';
import { main } from '../../../src/cli/main';
import { CHECK_IDS } from '../../../src/preflight';

/** Runs the CLI in-process with its own environment, collecting what it prints. */
async function run(argv: string[], env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

// Development defaults (memory store), with ports that cannot collide with anything.
const DEV = { HOLDFAST_HTTP__PORT: '0', HOLDFAST_METRICS__PORT: '0' };

test('preflight with no configuration: development, memory store, exit 0, one line per check', async () => {
  const r = await run(['preflight'], DEV);
  expect(r.code).toBe(0);
  expect(r.out).toHaveLength(CHECK_IDS.length + 1);
  expect(r.out.slice(0, -1).map((l) => l.split(/\s+/)[1])).toEqual([...CHECK_IDS]);
  expect(r.out[r.out.length - 1]).toMatch(
    /^preflight: 5 passed, 0 warnings, 0 failed, 0 not yet, \d+ skipped: ok$/,
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
    expect(r.err.join('\n')).toContain('sessions list --user ID');
  }
  expect((await run(['sessions', 'list'], DEV)).err[0]).toBe(
    'holdfast: sessions list needs --user',
  );
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
  // Parsed as values: the command ran and found no such session (exit 1, "0"), no TypeError.
  expect(r).toMatchObject({ code: 1, out: ['0'] });
});
