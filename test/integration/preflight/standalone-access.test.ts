/**
 * Preflight of reaching and entering the store, and of this process's own settings, against real
 * standalone servers: nothing listening, a password set with --requirepass, an ACL user, a
 * replica, a DNS name, a port taken by another process.
 */
import net from 'node:net';
import { freePort, getProvider, RedisNode } from '../../harness';
import { SCRIPT_NAMES } from '../../../src/store/redis/scripts';
import { cli, lineOf, preflightThenStart, productionEnv } from './helpers';

jest.setTimeout(60_000);

const PASSWORD = 'requirepass-for-preflight-tests';
let plain: RedisNode;
let guarded: RedisNode;

beforeAll(async () => {
  [plain, guarded] = await Promise.all([
    getProvider().standalone(),
    getProvider().standalone({ extraArgs: ['--requirepass', PASSWORD] }),
  ]);
});

afterAll(async () => {
  await Promise.all([plain?.destroy(), guarded?.destroy()]);
});

/** Nothing in the output may ever show a password. */
function expectNoSecret(lines: readonly string[], ...secrets: string[]): void {
  for (const secret of secrets) expect(lines.join('\n')).not.toContain(secret);
}

test('store.reachable: nothing listening at the configured node is unavailable (69), not a config error', async () => {
  const port = await freePort();
  const { preflight } = await preflightThenStart(
    await productionEnv([{ host: '127.0.0.1', port }]),
  );
  expect(preflight.code).toBe(69);
  expect(lineOf(preflight.out, 'store.reachable')).toBe(
    lineOf(preflight.out, 'store.reachable').replace(/fix: .*/, '') +
      'fix: start Redis or correct store.redis.nodes (HOLDFAST_STORE__REDIS__NODES); with store.startupWait set, start waits for it',
  );
  expect(lineOf(preflight.out, 'store.reachable')).toMatch(
    new RegExp(
      `^FAIL store\\.reachable +found no node answers: 127\\.0\\.0\\.1:${port} \\(listed\\): connection refused; expected every configured and discovered node answers`,
    ),
  );
  // What needs a reachable store says why it was not made.
  expect(lineOf(preflight.out, 'store.persistence')).toMatch(/skipped: no data node answered/);
});

test('store.auth: no password against --requirepass fails with NOAUTH (78)', async () => {
  const { preflight } = await preflightThenStart(await productionEnv([guarded]));
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'store.auth')).toMatch(
    /^FAIL store\.auth +found 127\.0\.0\.1:\d+ require a password \(NOAUTH\) and store\.redis\.password is not set; expected servers that need no password, since store\.redis\.password is not set; fix: set store\.redis\.password \(HOLDFAST_STORE__REDIS__PASSWORD\)/,
  );
});

test('store.auth: a wrong password fails with WRONGPASS (78) and is never printed', async () => {
  const wrong = 'not-the-password-at-all';
  const { preflight, start } = await preflightThenStart(
    await productionEnv([guarded], { HOLDFAST_STORE__REDIS__PASSWORD: wrong }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'store.auth')).toMatch(
    /^FAIL store\.auth +found 127\.0\.0\.1:\d+ refused the password of the default user \(WRONGPASS\); expected the servers accept the password of the default user/,
  );
  expectNoSecret([...preflight.out, ...start.err], wrong, PASSWORD);
});

test('store.auth: the right password passes; a password the server does not need warns', async () => {
  const right = await cli(
    ['preflight'],
    await productionEnv([guarded], { HOLDFAST_STORE__REDIS__PASSWORD: PASSWORD }),
  );
  expect(lineOf(right.out, 'store.auth')).toMatch(
    /^PASS store\.auth +found 1 node accepted the default user/,
  );
  expect(right.code).toBe(0);
  const unused = await cli(
    ['preflight'],
    await productionEnv([plain], { HOLDFAST_STORE__REDIS__PASSWORD: PASSWORD }),
  );
  expect(lineOf(unused.out, 'store.auth')).toMatch(
    /^WARN store\.auth +found 127\.0\.0\.1:\d+ require no password; store\.redis\.password is not used; expected servers that require the password Holdfast sends/,
  );
  expect(unused.code).toBe(0);
  expectNoSecret([...right.out, ...unused.out], PASSWORD);
});

test('store.scripts: an ACL user without +@scripting passes store.auth and fails here (78)', async () => {
  const userPassword = 'acl-user-password-for-tests';
  await guarded.command([
    'ACL',
    'SETUSER',
    'hfnoscripts',
    'on',
    `>${userPassword}`,
    '~*',
    '+@all',
    '-@scripting',
  ]);
  try {
    const { preflight } = await preflightThenStart(
      await productionEnv([guarded], {
        HOLDFAST_STORE__REDIS__USERNAME: 'hfnoscripts',
        HOLDFAST_STORE__REDIS__PASSWORD: userPassword,
      }),
    );
    expect(preflight.code).toBe(78);
    expect(lineOf(preflight.out, 'store.auth')).toMatch(
      /^PASS store\.auth +found 1 node accepted ACL user hfnoscripts/,
    );
    expect(lineOf(preflight.out, 'store.scripts')).toMatch(
      new RegExp(
        `^FAIL store\\.scripts +found 127\\.0\\.0\\.1:\\d+: create: NOPERM .*; expected ${SCRIPT_NAMES.length} scripts loaded by every master; fix: grant ACL user hfnoscripts the scripting commands: ACL SETUSER <user> \\+@scripting`,
      ),
    );
    expectNoSecret(preflight.out, userPassword);
  } finally {
    await guarded.command(['ACL', 'DELUSER', 'hfnoscripts']);
  }
});

test('store.mode: a standalone server where the settings say cluster fails (78)', async () => {
  const { preflight } = await preflightThenStart(
    await productionEnv([plain], { HOLDFAST_STORE__REDIS__MODE: 'cluster' }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'store.mode')).toMatch(
    /^FAIL store\.mode +found 127\.0\.0\.1:\d+ is standalone; expected Redis Cluster nodes \(cluster-enabled yes\), since store\.redis\.mode is cluster; fix: set store\.redis\.mode \(HOLDFAST_STORE__REDIS__MODE\) to standalone, or point store\.redis\.nodes at the cluster/,
  );
  expect(lineOf(preflight.out, 'cluster.state')).toMatch(
    /skipped: no node answered as a cluster node \(see store\.mode\)/,
  );
});

test('store.mode: a data node where the settings say sentinel fails (78)', async () => {
  const { preflight } = await preflightThenStart(
    await productionEnv([plain], { HOLDFAST_STORE__REDIS__MODE: 'sentinel' }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'store.mode')).toMatch(
    /^FAIL store\.mode +found 127\.0\.0\.1:\d+ is standalone; expected sentinels \(redis-server --sentinel, usually port 26379\), since store\.redis\.mode is sentinel/,
  );
});

test('store.mode: a replica named as the standalone master fails (78): it would refuse writes', async () => {
  const replica = await getProvider().standalone({
    extraArgs: ['--replicaof', plain.host, String(plain.port)],
  });
  try {
    const { preflight } = await preflightThenStart(await productionEnv([replica]));
    expect(preflight.code).toBe(78);
    expect(lineOf(preflight.out, 'store.mode')).toMatch(
      new RegExp(
        `^FAIL store\\.mode +found 127\\.0\\.0\\.1:${replica.port} is a replica of 127\\.0\\.0\\.1:${plain.port}; expected the master: a replica refuses writes`,
      ),
    );
  } finally {
    await replica.destroy();
  }
});

test('store.dns: a name with no address is unavailable (69); a name that resolves passes', async () => {
  const base = await productionEnv([]);
  delete base.HOLDFAST_STORE__REDIS__NODES;
  const { preflight } = await preflightThenStart({
    ...base,
    HOLDFAST_STORE__REDIS__DNS__NAME: 'holdfast-preflight-test.invalid',
    HOLDFAST_STORE__REDIS__DNS__PORT: String(plain.port),
  });
  expect(preflight.code).toBe(69);
  expect(lineOf(preflight.out, 'store.dns')).toMatch(
    /^FAIL store\.dns +found holdfast-preflight-test\.invalid resolves to no address \(ENOTFOUND\); expected at least one address \(one per Redis node\); fix: check store\.redis\.dns\.name/,
  );
  const ok = await cli(['preflight'], {
    ...base,
    HOLDFAST_STORE__REDIS__DNS__NAME: 'localhost',
    HOLDFAST_STORE__REDIS__DNS__PORT: String(plain.port),
  });
  expect(lineOf(ok.out, 'store.dns')).toMatch(
    /^PASS store\.dns +found localhost resolves to .*127\.0\.0\.1/,
  );
});

test('process.ports: an http.port another process listens on fails (78)', async () => {
  const port = await freePort();
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen({ host: '127.0.0.1', port }, resolve));
  try {
    const env = await productionEnv([plain], { HOLDFAST_HTTP__PORT: String(port) });
    const preflight = await cli(['preflight'], env);
    const start = await cli(['start'], env);
    expect([preflight.code, start.code]).toEqual([78, 78]);
    expect(start.err).toEqual(preflight.out);
    expect(lineOf(preflight.out, 'process.ports')).toMatch(
      new RegExp(
        `^FAIL process\\.ports +found http\\.port ${port} on 127\\.0\\.0\\.1 is in use by another process; expected ports free to bind on this machine; fix: stop what listens there`,
      ),
    );
  } finally {
    squatter.close();
  }
});

test('process.cookie-password: a published example value in production fails (78)', async () => {
  const { preflight } = await preflightThenStart(
    await productionEnv([plain], {
      HOLDFAST_COOKIE__PASSWORD: 'holdfast-development-only-password-not-secret',
    }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'process.cookie-password')).toBe(
    'FAIL process.cookie-password   found a secret of 45 characters that is a published example value; expected a random secret of at least 32 characters, not an example value; fix: set cookie.password (or HOLDFAST_COOKIE__PASSWORD) to a random secret of 32+ characters, e.g. `openssl rand -base64 33`, the same on every node',
  );
  expectNoSecret(preflight.out, 'holdfast-development-only-password-not-secret');
});

test("process.password-cost: below OWASP's scrypt minimum in production fails (78); the default passes", async () => {
  const { preflight } = await preflightThenStart(
    await productionEnv([plain], { HOLDFAST_PASSWORD__COST: '65536' }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'process.password-cost')).toBe(
    "FAIL process.password-cost     found password.cost 65536 (scrypt N = 2^16, r = 8, p = 1); expected at least 131072 (N = 2^17, OWASP's minimum for scrypt) in production; fix: set password.cost (HOLDFAST_PASSWORD__COST) to 131072 or more, or remove it to use the default; a lower cost makes stolen password hashes cheaper to crack",
  );
  const ok = await cli(['preflight'], await productionEnv([plain]));
  expect(lineOf(ok.out, 'process.password-cost')).toMatch(
    /^PASS process\.password-cost +found password\.cost 131072 \(scrypt N = 2\^17, r = 8, p = 1\); expected/,
  );
});

test('settings: a value the schema rejects is one line naming the setting and its source (78)', async () => {
  const { preflight } = await preflightThenStart(
    await productionEnv([plain], { HOLDFAST_STORE__REDIS__MODE: 'clustr' }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'settings')).toBe(
    'FAIL settings                  store.redis.mode: found "clustr" (from HOLDFAST_STORE__REDIS__MODE); expected one of "cluster", "sentinel", "standalone"; fix: change HOLDFAST_STORE__REDIS__MODE',
  );
});
