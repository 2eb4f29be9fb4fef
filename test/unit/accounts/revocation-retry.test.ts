/**
 * A credential change that is written while ending the user's sessions meets a store outage
 * (ADR 272): the request fails with the outage, and the revocation goes on in the background until
 * the store takes it; only then the change's own audit event (and hook) follows. Real services on
 * the memory store; the outage through `instrument`, on the revocation alone, as a frozen sessions
 * master does it (test/integration/plugin/deadline-cluster.test.ts has it on a real cluster).
 */
import { REVOCATION_RETRY_MS } from '../../../src/accounts';
import { StoreUnavailableError } from '../../../src/errors';
import { createServices } from '../../../src/server/services';
import type { ClientInfo } from '../../../src/session';
import type { SessionEngine, StoredSession } from '../../../src/store/engine';
import { MemoryEngine } from '../../../src/store';
import { testSettings } from '../../support/app';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a new password!';
const client: ClientInfo = { ip: '10.9.8.7', userAgent: 'revocation-retry' };
let seq = 0;

/** Services whose revokeUser fails as an outage while `fault.revoke` is set. */
function setup() {
  const settings = testSettings();
  const fault: { revoke: Error | null; failed: number } = { revoke: null, failed: 0 };
  const hooks: string[] = [];
  const services = createServices(settings, {
    engine: new MemoryEngine(settings.store.redis.shards),
    instrument: (engine: SessionEngine): SessionEngine =>
      new Proxy(engine, {
        get(target, key, receiver) {
          if (key === 'revokeUser' && fault.revoke) {
            const err = fault.revoke;
            return () => {
              fault.failed++;
              return Promise.reject(err);
            };
          }
          const value = Reflect.get(target, key, receiver) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
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

const outage = () => new StoreUnavailableError('revokeUser', new Error('Command timed out'));

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
  s.fault.revoke = outage();
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
  s.fault.revoke = outage();
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
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  s.fault.revoke = outage();
  await expect(s.accounts.disableUser(user.id)).rejects.toBeInstanceOf(StoreUnavailableError);
  while (s.fault.failed < 2) await new Promise((resolve) => setTimeout(resolve, 50)); // one retry
  // Waiting for the next attempt holds no process open (an unref'd timer is not listed).
  expect(timers()).toBe(before);
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
  s.fault.revoke = outage();
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
  s.fault.revoke = outage();
  await expect(changePassword(s, current)).rejects.toBeInstanceOf(StoreUnavailableError);
  s.revocations.stop(); // as if the node died before the store came back
  await s.revocations.idle();
  s.fault.revoke = null;
  expect((await s.sessions.list(user.id)).map((x) => x.id)).toEqual([current.id, other.id]);

  const fresh = await s.accounts.login({ email: user.email, password: NEW_PASSWORD }, client);
  expect((await s.sessions.list(user.id)).map((x) => x.id)).toEqual([fresh.issued.session.id]);
});
