/**
 * The store commands against a real Redis: sessions count / list / revoke and users create see
 * and change exactly what the server's own services see.
 */
import { Readable } from 'node:stream';
import { main } from '../../../src/cli/main';
import { readFirstLine } from '../../../src/cli/password';
import type { Services } from '../../../src/server/services';
import type { RedisNode } from '../../harness';
import { runCli, startRedisCli, stopRedisCli } from '../../support/cli';

let redis: RedisNode;
let env: NodeJS.ProcessEnv;
let services: Services;

/** Runs the CLI in-process; `input` is what standard input holds (a pipe, not a terminal). */
const run = (argv: string[], input = '') => runCli(argv, env, input);

beforeAll(async () => {
  ({ redis, env, services } = await startRedisCli());
}, 60_000);

afterAll(() => stopRedisCli({ redis, services }));

const client = { ip: '198.51.100.4', userAgent: 'Firefox 130 on Linux' };

test('sessions count, list and revoke see what the server created', async () => {
  const a = await services.sessions.create('alice', client, 'password');
  await services.sessions.create('alice', client, 'password');
  await services.sessions.create('bob', client, 'password');

  expect((await run(['sessions', 'count'])).out).toEqual(['3']);
  expect(JSON.parse((await run(['sessions', 'count', '--json'])).out[0])).toEqual({
    sessions: 3,
    users: 2,
  });

  const list = await run(['sessions', 'list', '--user', 'alice', '--json']);
  const rows = JSON.parse(list.out[0]) as Array<Record<string, string>>;
  expect(rows.map((r) => r.id)).toContain(a.session.id);
  // The documented shape (docs/cli.md), key for key.
  expect(Object.keys(rows[0])).toEqual([
    'id',
    'method',
    'createdAt',
    'lastSeenAt',
    'expiresAt',
    'ip',
    'userAgent',
  ]);
  expect(rows[0].expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(rows[0]).toMatchObject({
    ip: '198.51.100.4',
    userAgent: 'Firefox 130 on Linux',
    method: 'password',
  });
  expect(list.out[0]).not.toContain(a.token.split('.')[2]); // never the secret

  // Without --json: a header row, then one row per session, columns aligned.
  const table = await run(['sessions', 'list', '--user', 'alice']);
  expect(table.code).toBe(0);
  expect(table.out).toHaveLength(3);
  expect(table.out[0]).toMatch(/^ID +METHOD +CREATED +LAST SEEN +EXPIRES +IP +USER AGENT$/);
  const row = table.out.find((l) => l.startsWith(a.session.id)) as string;
  expect(row).toMatch(
    /^\S+ +password +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\S+Z +\S+Z +198\.51\.100\.4 +Firefox 130 on Linux$/,
  );
  expect(row.indexOf('password')).toBe(table.out[0].indexOf('METHOD'));
  expect(table.out.join('\n')).not.toContain(a.token.split('.')[2]);
  expect((await run(['sessions', 'list', '--user', 'nobody'])).out).toEqual([
    'ID  METHOD  CREATED  LAST SEEN  EXPIRES  IP  USER AGENT',
  ]);

  // `--session=ID`: an id may start with '-', which `--session ID` would read as an option.
  expect(
    await run(['sessions', 'revoke', '--user', 'alice', `--session=${a.session.id}`]),
  ).toMatchObject({ code: 0, out: ['1'] });
  expect((await services.sessions.authenticate(a.token)).result).toBe('invalid');
  expect(
    await run(['sessions', 'revoke', '--user', 'bob', `--session=${a.session.id}`]),
  ).toMatchObject({ code: 1, out: ['0'] });
  // `--session ID` where the id starts with '-': a value, not an option.
  const dashed = await services.sessions.create('carol', client, 'password');
  expect(
    await run(['sessions', 'revoke', '--user', 'carol', '--session', `-${dashed.session.id}`]),
  ).toMatchObject({ code: 1, out: ['0'] });
  expect(
    await run(['sessions', 'revoke', '--user', 'carol', '--session', dashed.session.id, '--json']),
  ).toMatchObject({ code: 0, out: ['{"revoked":1}'] });
  expect(await run(['sessions', 'revoke', '--user', 'alice', '--json'])).toMatchObject({
    code: 0,
    out: ['{"revoked":1}'],
  });
  expect(JSON.parse((await run(['sessions', 'count', '--json'])).out[0])).toEqual({
    sessions: 1,
    users: 1,
  });
});

test('users create reads the password from stdin and refuses a taken email with exit 65', async () => {
  // The password rules apply here too: a common password, or one with the email's name in it.
  for (const weak of ['password123', 'first-admin-password']) {
    const refused = await run(['users', 'create', '--email', 'Admin@Example.org'], `${weak}\n`);
    expect(refused.code).toBe(65);
    expect(refused.err.join('\n')).toMatch(
      /HF_USER_INVALID password: (is one of the 10,000 most common|must not contain the email)/,
    );
    expect(refused.err.join('\n')).not.toContain(weak);
  }
  const made = await run(
    ['users', 'create', '--email', 'Admin@Example.org', '--json'],
    'first-operator-passphrase\n',
  );
  expect(made.code).toBe(0);
  const created = JSON.parse(made.out[0]) as { id: string; email: string };
  expect(created).toEqual({ id: expect.any(String), email: 'admin@example.org' });
  // The user is in the shared store: the server's own services sign it in.
  await expect(
    services.accounts.login(
      { email: 'admin@example.org', password: 'first-operator-passphrase' },
      client,
    ),
  ).resolves.toMatchObject({ user: { id: created.id } });
  // A taken or invalid address is refused before the password is read.
  for (const email of ['admin@example.org', 'not-an-address']) {
    let read = false;
    const stdin = Readable.from(
      (function* () {
        read = true;
        yield 'another-password-1\n';
      })(),
    );
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['users', 'create', '--email', email], {
      env,
      stdin,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    expect({ code, out, read }).toEqual({ code: 65, out: [], read: false });
    expect(err.join('\n')).toMatch(/HF_USER_EXISTS|HF_USER_INVALID email: must be an address/);
  }
});

test('users disable and users delete end every session and remember-me series; an unknown address exits 65', async () => {
  const email = 'ops.target@example.org';
  // Nothing of the email in it: the password rules refuse that.
  const password = 'an operator chose this 1';
  const user = await services.accounts.createUser({ email, password });
  const a = await services.sessions.create(user.id, client, 'password', { remember: true });

  expect(await run(['users', 'disable', '--email', 'Ops.Target@Example.org'])).toMatchObject({
    code: 0,
    out: [user.id],
  });
  expect((await services.sessions.authenticate(a.token)).result).toBe('invalid');
  expect((await services.sessions.useRemember(a.rememberToken, client)).result).toBe('invalid');
  expect(await services.users.findById(user.id)).toMatchObject({ disabled: true });
  await expect(services.accounts.login({ email, password }, client)).rejects.toMatchObject({
    code: 'HF_ACCOUNT_DISABLED',
  });

  const b = await services.sessions.create(user.id, client, 'password', { credentialVersion: 1 });
  const deleted = await run(['users', 'delete', '--email', email, '--json']);
  expect(deleted.code).toBe(0);
  expect(JSON.parse(deleted.out[0])).toEqual({ id: user.id, email, deleted: true });
  expect((await services.sessions.authenticate(b.token)).result).toBe('invalid');
  expect(await services.users.findByEmail(email)).toBeNull();

  const unknown = await run(['users', 'delete', '--email', email]);
  expect(unknown.code).toBe(65);
  expect(unknown.err.join('\n')).toContain('HF_USER_INVALID email: no user has this address');
  expect((await run(['users', 'disable'])).code).toBe(64);
});

test('sessions revoke-all --yes ends the sessions and series of every user; without --yes nothing ends', async () => {
  const users = ['everyone-a', 'everyone-b', 'everyone-c'];
  const issued = await Promise.all(
    users.map((u) => services.sessions.create(u, client, 'password', { remember: true })),
  );

  const refused = await run(['sessions', 'revoke-all']);
  expect(refused.code).toBe(64);
  expect(refused.err.join('\n')).toContain('--yes');
  for (const s of issued) expect((await services.sessions.authenticate(s.token)).result).toBe('ok');

  const done = await run(['sessions', 'revoke-all', '--yes', '--json']);
  expect(done.code).toBe(0);
  // Sessions other tests of this file left are ended too: at least these three.
  const counts = JSON.parse(done.out[0]) as { revoked: number; series: number };
  expect(counts.revoked).toBeGreaterThanOrEqual(3);
  expect(counts.series).toBeGreaterThanOrEqual(3);
  for (const s of issued) {
    expect((await services.sessions.authenticate(s.token)).result).toBe('invalid');
    expect((await services.sessions.useRemember(s.rememberToken, client)).result).toBe('invalid');
  }
  expect(await run(['sessions', 'count', '--json'])).toMatchObject({ code: 0 });
  expect((await services.sessions.count()).sessions).toBe(0);
});

test('users enable lets a disabled user sign in again; what the disable ended stays ended; an unknown address exits 65', async () => {
  const email = 'ops.enable@example.org';
  const password = 'an operator chose this 3';
  const user = await services.accounts.createUser({ email, password });
  const a = await services.sessions.create(user.id, client, 'password', { remember: true });
  expect((await run(['users', 'disable', '--email', email])).code).toBe(0);

  const enabled = await run(['users', 'enable', '--email', 'OPS.Enable@example.org', '--json']);
  expect(enabled.code).toBe(0);
  expect(JSON.parse(enabled.out[0])).toEqual({ id: user.id, email, enabled: true });
  expect(await services.users.findById(user.id)).toMatchObject({ disabled: false });
  expect((await services.sessions.authenticate(a.token)).result).toBe('invalid');
  expect((await services.sessions.useRemember(a.rememberToken, client)).result).toBe('invalid');
  const login = await services.accounts.login({ email, password }, client);
  expect((await services.sessions.authenticate(login.issued.token)).result).toBe('ok');
  expect(await run(['users', 'enable', '--email', email])).toMatchObject({
    code: 0,
    out: [user.id],
  });

  const unknown = await run(['users', 'enable', '--email', 'nobody.enable@example.org']);
  expect(unknown.code).toBe(65);
  expect(unknown.err.join('\n')).toContain('HF_USER_INVALID email: no user has this address');
});

test('users show: id, status, verified, created, live sessions, identities and roles (table and --json); never a hash', async () => {
  const email = 'ops.show@example.org';
  const user = await services.accounts.createUser({ email, password: 'an operator chose this 4' });
  await services.sessions.create(user.id, client, 'password');
  await services.sessions.create(user.id, client, 'password');
  await services.users.linkIdentity('github', 'gh-show-1', user.id);
  await services.accounts.setRoles(user.id, ['admin', 'billing.read']);
  const stored = (await services.users.findById(user.id))!;

  const json = await run(['users', 'show', '--email', 'Ops.Show@example.org', '--json']);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.out[0])).toEqual({
    id: user.id,
    email,
    status: 'enabled',
    emailVerified: false,
    createdAt: new Date(stored.createdAt).toISOString(),
    sessions: 2,
    identities: [{ provider: 'github', subject: 'gh-show-1' }],
    roles: ['admin', 'billing.read'],
  });
  expect(json.out[0]).not.toContain(stored.passwordHash!);

  await services.accounts.disableUser(user.id);
  const table = await run(['users', 'show', '--email', email]);
  expect(table.code).toBe(0);
  expect(table.out).toHaveLength(2);
  expect(table.out[0].split(/ {2,}/)).toEqual([
    'ID',
    'EMAIL',
    'STATUS',
    'VERIFIED',
    'CREATED',
    'SESSIONS',
    'IDENTITIES',
    'ROLES',
  ]);
  expect(table.out[1].split(/ {2,}/)).toEqual([
    user.id,
    email,
    'disabled',
    'no',
    new Date(stored.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    '0',
    'github:gh-show-1',
    'admin,billing.read',
  ]);

  const unknown = await run(['users', 'show', '--email', 'nobody.show@example.org']);
  expect(unknown.code).toBe(65);
  expect(unknown.err.join('\n')).toContain('HF_USER_INVALID email: no user has this address');
});

test('sessions list --email lists the same sessions as --user; neither or both is a usage error; an unknown address exits 65', async () => {
  const email = 'ops.list@example.org';
  const user = await services.accounts.createUser({ email, password: 'an operator chose this 5' });
  const a = await services.sessions.create(user.id, client, 'password');
  const byId = await run(['sessions', 'list', '--user', user.id, '--json']);
  const byEmail = await run(['sessions', 'list', '--email', 'OPS.list@example.org', '--json']);
  expect(byEmail.code).toBe(0);
  expect(byEmail.out).toEqual(byId.out);
  expect((JSON.parse(byEmail.out[0]) as { id: string }[]).map((r) => r.id)).toEqual([a.session.id]);
  const table = await run(['sessions', 'list', '--email', email]);
  expect(table.out[0]).toMatch(/^ID +METHOD +CREATED/);
  expect(table.out[1]).toContain(a.session.id);

  expect((await run(['sessions', 'list'])).code).toBe(64);
  const both = await run(['sessions', 'list', '--user', user.id, '--email', email]);
  expect(both.code).toBe(64);
  expect(both.err[0]).toBe('holdfast: give exactly one of --user, --email (2 given)');
  const unknown = await run(['sessions', 'list', '--email', 'nobody.list@example.org']);
  expect(unknown.code).toBe(65);
  expect(unknown.err.join('\n')).toContain('HF_USER_INVALID email: no user has this address');
});

test('sessions revoke --all --yes ends every session and series of every user; --all without --yes ends nothing', async () => {
  const issued = await Promise.all(
    ['all-a', 'all-b'].map((u) =>
      services.sessions.create(u, client, 'password', { remember: true }),
    ),
  );
  const refused = await run(['sessions', 'revoke', '--all']);
  expect(refused.code).toBe(64);
  expect(refused.err[0]).toBe('holdfast: --all signs everyone out: confirm it with --yes');
  for (const s of issued) expect((await services.sessions.authenticate(s.token)).result).toBe('ok');

  const done = await run(['sessions', 'revoke', '--all', '--yes', '--json']);
  expect(done.code).toBe(0);
  const counts = JSON.parse(done.out[0]) as { revoked: number; series: number };
  expect(counts.revoked).toBeGreaterThanOrEqual(2);
  expect(counts.series).toBeGreaterThanOrEqual(2);
  for (const s of issued) {
    expect((await services.sessions.authenticate(s.token)).result).toBe('invalid');
    expect((await services.sessions.useRemember(s.rememberToken, client)).result).toBe('invalid');
  }
  expect((await services.sessions.count()).sessions).toBe(0);
  expect(await run(['sessions', 'revoke', '--all', '--yes'])).toMatchObject({
    code: 0,
    out: ['0'],
  });
});

test('users roles prints and replaces the roles that become the scope; bad roles change nothing', async () => {
  const email = 'roles.target@example.org';
  const user = await services.accounts.createUser({ email, password: 'an operator chose this 2' });

  expect(await run(['users', 'roles', '--email', email])).toMatchObject({ code: 0, out: [] });
  expect(
    await run(['users', 'roles', '--email', email, '--set', 'admin, billing.read']),
  ).toMatchObject({ code: 0, out: ['admin', 'billing.read'] });
  expect(await services.accounts.rolesOf(user.id)).toEqual(['admin', 'billing.read']);

  const bad = await run(['users', 'roles', '--email', email, '--set', 'admin,Not A Role']);
  expect(bad.code).toBe(65);
  expect(bad.err.join('\n')).toContain('HF_USER_INVALID roles');
  expect(await services.accounts.rolesOf(user.id)).toEqual(['admin', 'billing.read']);

  const cleared = await run(['users', 'roles', '--email', email, '--set', '', '--json']);
  expect(cleared.code).toBe(0);
  expect(JSON.parse(cleared.out[0])).toEqual({ id: user.id, email, roles: [] });
  expect(await services.accounts.rolesOf(user.id)).toEqual([]);

  const unknown = await run(['users', 'roles', '--email', 'nobody@example.org', '--set', 'admin']);
  expect(unknown.code).toBe(65);
  expect(unknown.err.join('\n')).toContain('HF_USER_INVALID email: no user has this address');
});

test('a store that cannot be reached exits 69', async () => {
  const down = {
    ...env,
    HOLDFAST_STORE__REDIS__NODES: '127.0.0.1:1',
    HOLDFAST_STORE__REDIS__CONNECT_TIMEOUT: '300ms',
  };
  const out: string[] = [];
  const code = await main(['sessions', 'count'], {
    env: down,
    out: (l) => out.push(l),
    err: (l) => out.push(l),
  });
  expect(code).toBe(69);
  expect(out.join('\n')).toContain('HF_STORE_UNAVAILABLE');
});

test('readFirstLine stops at the first line break', async () => {
  expect(await readFirstLine(Readable.from(['pass', 'word\r\nrest\n']))).toBe('password');
});

test('sessions list shows control characters of a stored user agent as "?": no terminal escapes reach the operator', async () => {
  const evil = { ip: '203.0.113.9', userAgent: 'Mozilla\u001b[2J\u001b]0;owned\u0007 \u009b31m' };
  await services.sessions.create('mallory', evil, 'password');
  const r = await run(['sessions', 'list', '--user', 'mallory']);
  expect(r.code).toBe(0);
  expect(r.out[1]).toMatch(/ Mozilla\?\[2J\?\]0;owned\? \?31m$/);
  for (const line of r.out) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
});
