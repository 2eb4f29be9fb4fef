/**
 * Bad input at scale: schemathesis (PyPI, pinned in scripts/install-schemathesis.sh, its own venv
 * under .tools/schemathesis) against the OpenAPI document a real `holdfast start` serves on
 * loopback, on a real Redis: every operation of the document, a bounded number of examples per
 * operation (examples, coverage and fuzzing phases, fixed seed), with a logged-in session in the
 * document's `session` cookie (schemathesis.toml) and the same-site Origin the CSRF check asks of
 * state-changing requests. Checks: no 5xx, no crash, every status, content type, header and body
 * as documented, schema-invalid input refused, 405 for methods the document does not list.
 * Not checked: positive_data_acceptance (the account rules beyond the schema, such as the
 * password policy and a deliverable address, answer a documented 400 to schema-valid data).
 * Bugs it found are listed in docs/reliability.md, each with its regression test.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { getProvider, RedisNode } from '../../harness';
import { LOG_DIR } from '../../harness/logs';
import {
  canary,
  cookiesOf,
  HoldfastProcess,
  productionEnv,
  request,
  ROOT,
  spawnHoldfast,
  waitReady,
} from '../../support/process';

jest.setTimeout(240_000);

const ST = path.join(ROOT, '.tools/schemathesis/bin/st');
const WORK = path.join(ROOT, 'test-artifacts/schemathesis');
/**
 * Test cases per operation and phase: small, so `make test` stays fast on 2 cores. A longer hunt:
 * SCHEMATHESIS_EXAMPLES=60 SCHEMATHESIS_SEED=<n> npx jest test/e2e/api.
 */
const EXAMPLES = Number(process.env.SCHEMATHESIS_EXAMPLES ?? 8);

let redis: RedisNode;
let node: HoldfastProcess | undefined;

beforeAll(async () => {
  redis = await getProvider().standalone();
});

afterAll(async () => {
  node?.kill();
  await redis?.destroy();
});

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(ST, args, {
      // schemathesis keeps a cache in its working directory: under test-artifacts, not in git.
      cwd: WORK,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

test('every operation of the served document: no 5xx, no crash, nothing the document does not say', async () => {
  expect(fs.existsSync(ST)).toBe(true);
  fs.mkdirSync(WORK, { recursive: true });
  // A provider, so the OAuth operations have a `provider` value that exists (enum in the doc).
  const env = await productionEnv(redis, {
    HOLDFAST_WORKERS: '1',
    HOLDFAST_OAUTH__GITHUB__CLIENT_ID: 'schemathesis',
    HOLDFAST_OAUTH__GITHUB__CLIENT_SECRET: 'not-a-real-client-secret',
  });
  const port = Number(env.HOLDFAST_HTTP__PORT);
  node = spawnHoldfast(['start'], env, 'schemathesis', [], 'api');
  await waitReady(port);
  const password = 'schemathesis signed in 42';
  canary(password);
  const reg = await request(port, '/auth/register', {
    method: 'POST',
    body: { email: `st.${Date.now()}@example.com`, password },
  });
  expect(reg.status).toBe(201);
  const session = /__Host-holdfast=([^;]+)/.exec(cookiesOf(reg))?.[1];
  expect(session).toBeDefined();

  const base = `http://127.0.0.1:${port}`;
  const st = (only: string[]) =>
    run(
      [
        '--config-file',
        path.join(__dirname, 'schemathesis.toml'),
        'run',
        `${base}/auth/openapi.json`,
        '--url',
        base,
        // cookie.secure: the site's own origin is https, as a browser behind TLS sends it.
        '--header',
        `Origin: https://127.0.0.1:${port}`,
        '--checks',
        'all',
        // The account rules beyond the schema (password policy, a deliverable address, the
        // registration throttle) answer schema-valid data with the documented 400 or 429.
        '--exclude-checks',
        'positive_data_acceptance',
        '--phases',
        'examples,coverage,fuzzing',
        '--max-examples',
        String(EXAMPLES),
        '--seed',
        process.env.SCHEMATHESIS_SEED ?? '1',
        '--workers',
        '1',
        '--request-timeout',
        '10',
        // A provider's sign-in redirects to github.com: the 302 is the answer under test.
        '--max-redirects',
        '0',
        '--output-truncate',
        'false',
        ...only,
      ],
      { ST_SESSION_COOKIE: session },
    );
  // Logout and account deletion last: they end the session every other operation is signed in with.
  const last = ['logout', 'deleteAccount'];
  const runs = [
    await st(last.flatMap((id) => ['--exclude-operation-id', id])),
    await st(last.flatMap((id) => ['--include-operation-id', id])),
  ];
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.writeFileSync(
    path.join(LOG_DIR, 'e2e-api-schemathesis-run.log'),
    runs.map((r) => r.out).join('\n'),
  );
  expect(runs.map((r) => /Tested: (\d+)/.exec(r.out)?.[1])).toEqual(['13', '2']);
  for (const { code, out } of runs) {
    expect({ code, tail: code === 0 ? '' : out.slice(-8000) }).toEqual({ code: 0, tail: '' });
  }
  // The node survived the run: still ready, no worker replaced.
  expect((await request(port, '/health/ready')).status).toBe(200);
  expect(node.output()).not.toMatch(/"msg":"worker died"/);
  node.child.kill('SIGTERM');
  expect((await node.exited).code).toBe(0);
});
