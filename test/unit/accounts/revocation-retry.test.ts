/**
 * A credential change that is written while ending the user's sessions meets a store outage
 * (ADR 272): the request fails with the outage, and the revocation goes on in the background until
 * the store takes it; only then the change's own audit event (and hook) follows. Real services on
 * the memory store; the outage through `instrument`, on the revocation alone, as a dying sessions
 * master does it (test/integration/plugin/deadline-cluster.test.ts has it on a real cluster).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { REVOCATION_RETRY_MS } from '../../../src/accounts';
import { StoreUnavailableError } from '../../../src/errors';
import { createServices } from '../../../src/server/services';
import type { ClientInfo } from '../../../src/session';
import type { StoredSession } from '../../../src/store/engine';
import { MemoryEngine } from '../../../src/store';
import { testSettings } from '../../support/app';
import { revokeFault, revokeOutage } from '../../support/revoke-fault';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a new password!';
const client: ClientInfo = { ip: '10.9.8.7', userAgent: 'revocation-retry' };
let seq = 0;

/** Services whose revokeUser fails as an outage while `fault.revoke` is set. */
function setup() {
  const settings = testSettings();
  const { fault, instrument } = revokeFault();
  const hooks: string[] = [];
  const services = createServices(settings, {
    engine: new MemoryEngine(settings.store.redis.shards),
    instrument,
    hooks: { afterPasswordChange: ({ user }) => void hooks.push(user.id) },
  });
  const seen: Array<[string, unknown]> = [];
  for (const name of [
    'revocationDeferred',
    'revocationFinished',
    'revocationAbandoned',
    'passwordChanged',
    'disabled',
    'deleted',
  ] as const) {
    services.events.on(name, (e: unknown) => seen.push([name, e]));
  }
  return { ...services, fault, seen, hooks };
}

/** A user with two sessions: the one that acts, and another device's. */
async function twoDevices(s: ReturnType<typeof setup>) {
  const email = `retry.${process.pid}.${++seq}@example.com`;
  const reg = await s.accounts.register({ email, password: PASSWORD }, client);
  const other = await s.accounts.login({ email, password: PASSWORD }, client);
  return { user: reg.user, current: reg.issued!.session, other: other.issued.session };
}

/** The user's password changed from PASSWORD to NEW_PASSWORD by the session `current`. */
const changePassword = (s: ReturnType<typeof setup>, current: StoredSession) =>
  s.accounts.changePassword(
    current,
    { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    client,
  );

test('a password change written during an outage: 503 for the request, then the other session ends once the store is back', async () => {
  const s = setup();
  const { user, current, other } = await twoDevices(s);
  s.fault.revoke = revokeOutage();
  const started = Date.now();
  await expect(changePassword(s, current)).rejects.toBeInstanceOf(StoreUnavailableError);
  // The new password is written, and the other device is still signed in: for now.
  expect((await s.users.findById(user.id))?.credentialVersion).toBe(user.credentialVersion + 1);
  expect((await s.sessions.list(user.id)).map((x) => x.id)).toContain(other.id);
  expect(s.seen).toEqual([['revocationDeferred', { change: 'password-change', userId: user.id }]]);
  expect(s.hooks).toEqual([]);

  s.fault.revoke = null;
  await s.revocations.idle();
  expect(Date.now() - started).toBeGreaterThanOrEqual(REVOCATION_RETRY_MS);
  // Every session but the one that made the change (it was refused no request meanwhile).
  expect((await s.sessions.list(user.id)).map((x) => x.id)).toEqual([current.id]);
  expect(s.seen.slice(1)).toEqual([
    ['revocationFinished', { change: 'password-change', userId: user.id, attempts: 2 }],
    ['passwordChanged', { userId: user.id, revokedSessions: 1 }],
  ]);
  expect(s.hooks).toEqual([user.id]);
});

test('a disable and a delete during an outage: their sessions end in the background, then the event', async () => {
  const s = setup();
  const a = await twoDevices(s);
  const b = await twoDevices(s);
  s.fault.revoke = revokeOutage();
  await expect(s.accounts.disableUser(a.user.id)).rejects.toBeInstanceOf(StoreUnavailableError);
  await expect(s.accounts.deleteUser(b.user.id)).rejects.toBeInstanceOf(StoreUnavailableError);
  expect(await s.sessions.list(a.user.id)).toHaveLength(2);
  expect(await s.sessions.list(b.user.id)).toHaveLength(2);
  s.fault.revoke = null;
  await s.revocations.idle();
  expect(await s.sessions.list(a.user.id)).toEqual([]);
  expect(await s.sessions.list(b.user.id)).toEqual([]);
  expect(s.seen.filter(([name]) => !name.startsWith('revocation'))).toEqual([
    ['disabled', { userId: a.user.id, revokedSessions: 2 }],
    ['deleted', { userId: b.user.id, revokedSessions: 2, by: 'admin' }],
  ]);
});

test('stopped while the store is still away: the revocation is given up and said so', async () => {
  const s = setup();
  const { user } = await twoDevices(s);
  s.fault.revoke = revokeOutage();
  await expect(s.accounts.disableUser(user.id)).rejects.toBeInstanceOf(StoreUnavailableError);
  while (s.fault.failed < 2) await new Promise((resolve) => setTimeout(resolve, 50)); // one retry
  s.revocations.stop();
  await s.revocations.idle();
  expect(s.seen).toEqual([
    ['revocationDeferred', { change: 'disable', userId: user.id }],
    ['revocationAbandoned', { change: 'disable', userId: user.id, attempts: 2 }],
  ]);
  // Once stopped, a new outage is not taken on: the caller's error is all there is.
  await expect(s.accounts.deleteUser(user.id)).rejects.toBeInstanceOf(StoreUnavailableError);
  await s.revocations.idle();
  expect(s.seen).toHaveLength(2);
});

test('a retry that fails with something other than an outage is given up with that error', async () => {
  const s = setup();
  const { user } = await twoDevices(s);
  s.fault.revoke = revokeOutage();
  await expect(s.accounts.disableUser(user.id)).rejects.toBeInstanceOf(StoreUnavailableError);
  const bug = new TypeError('not an outage');
  s.fault.revoke = bug;
  await s.revocations.idle();
  expect(s.seen.at(-1)).toEqual([
    'revocationAbandoned',
    { change: 'disable', userId: user.id, attempts: 2, error: bug },
  ]);
  expect(s.seen.map(([name]) => name)).not.toContain('disabled');
});

test('a failure that is not an outage is the caller’s alone: nothing is retried', async () => {
  const s = setup();
  const { user } = await twoDevices(s);
  s.fault.revoke = new TypeError('a bug');
  await expect(s.accounts.disableUser(user.id)).rejects.toThrow('a bug');
  await s.revocations.idle();
  expect(s.seen).toEqual([]);
});

test('the retrying process is gone: the next sign-in with the new password ends what the old one left (ADR 273)', async () => {
  const s = setup();
  const { user, current, other } = await twoDevices(s);
  s.fault.revoke = revokeOutage();
  await expect(changePassword(s, current)).rejects.toBeInstanceOf(StoreUnavailableError);
  s.revocations.stop(); // as if the node died before the store came back
  await s.revocations.idle();
  s.fault.revoke = null;
  expect((await s.sessions.list(user.id)).map((x) => x.id)).toEqual([current.id, other.id]);

  const fresh = await s.accounts.login({ email: user.email, password: NEW_PASSWORD }, client);
  expect((await s.sessions.list(user.id)).map((x) => x.id)).toEqual([fresh.issued.session.id]);
});

test('a pending retry holds no process open: with nothing else to do, the process ends', () => {
  // A process of its own: in this one, jest's own timers would keep it alive either way.
  const script = `
    const { createServices } = require('./src/server/services');
    const { MemoryEngine } = require('./src/store');
    const { testSettings } = require('./test/support/app');
    const { revokeFault, revokeOutage } = require('./test/support/revoke-fault');
    (async () => {
      const settings = testSettings();
      const { fault, instrument } = revokeFault();
      const s = createServices(settings, { engine: new MemoryEngine(settings.store.redis.shards), instrument });
      s.events.on('revocationDeferred', () => console.log('deferred'));
      const u = await s.accounts.createUser({ email: 'idle@example.com', password: '${PASSWORD}' });
      fault.revoke = revokeOutage();
      await s.accounts.disableUser(u.id).catch(() => console.log('answered 503'));
    })();
  `;
  const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: resolve(__dirname, '../../..'),
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect({ out: run.stdout, err: run.stderr, signal: run.signal, status: run.status }).toEqual({
    out: 'deferred\nanswered 503\n',
    err: '',
    signal: null,
    status: 0,
  });
});
