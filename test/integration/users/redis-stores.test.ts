import { createHash } from 'node:crypto';
import { Cluster } from 'ioredis';
import { getProvider, RedisClusterHandle } from '../../harness';
import {
  LoginThrottle,
  RedisThrottleStore,
  RedisUserStore,
  UserExistsError,
} from '../../../src/users';
import { durability } from '../../../src/store/durability';
import { expectHoldfastError, rejectionOf } from '../../support/errors';
import { userStoreContract } from '../../support/suites/user-store-contract';
import { identityContract } from '../../support/suites/identity-contract';

jest.setTimeout(120_000);

let cluster: RedisClusterHandle;
let client: Cluster;

beforeAll(async () => {
  cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 0 });
  client = new Cluster(cluster.seeds);
});

afterAll(async () => {
  await client?.quit();
  await cluster?.stop();
});

test('Redis user store on a cluster: create, find by any spelling, unique under concurrency, no CROSSSLOT', async () => {
  const users = new RedisUserStore(client, 'hft');
  const email = `Üser.${Date.now()}@Example.com`;
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, () => users.create({ email, passwordHash: 'h' })),
  );
  const ok = results.filter((r) => r.status === 'fulfilled');
  expect(ok).toHaveLength(1);
  for (const r of results)
    if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UserExistsError);
  const created = (ok[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof users.create>>>).value;
  expect(await users.findByEmail(`  ${email.toUpperCase()}`)).toEqual(created);
  expect(await users.findById(created.id)).toEqual(created);
  const write = { bumpVersion: true, changedAt: 123 };
  expect(await users.updatePassword(created.id, { expectedVersion: 0 }, 'h2', write)).toBe(1);
  expect((await users.findById(created.id))?.passwordHash).toBe('h2');
  expect(await users.updatePassword('no-such-user', { expectedVersion: 0 }, 'h3', write)).toBe(
    null,
  );
  expect(await users.findById('no-such-user')).toBeNull();
  expect(await users.linkIdentity('github', '42', created.id)).toBe(true);
  expect(await users.linkIdentity('github', '42', 'someone-else')).toBe(false);
  expect((await users.findByIdentity('github', '42'))?.id).toBe(created.id);
  // No email in any key name.
  const keys = (await Promise.all(client.nodes('master').map((n) => n.keys('{hft:*')))).flat();
  expect(keys.join(' ')).not.toMatch(/example/i);
});

userStoreContract('Redis Cluster', () => new RedisUserStore(() => client, 'hft'));
test('Redis user store on a cluster: linked identities (the UserStore contract), no CROSSSLOT', async () => {
  await identityContract(new RedisUserStore(client, 'hft'));
});

/**
 * With store.redis.durability (ADR 215) every change is a script followed by WAIT on the writes
 * client; this cluster has no replica, so each WAIT times out (5 ms) and the change is pending:
 * the stores must answer exactly as without durability (replies decoded the same way).
 */
const durable = () => ({ client: () => client, replicas: 1, timeout: 5 });
userStoreContract(
  'Redis Cluster, changes followed by WAIT',
  () => new RedisUserStore(() => client, 'hfd', Date.now, durable()),
);
test('Redis user store with WAIT: linked identities (the UserStore contract)', async () => {
  await identityContract(new RedisUserStore(client, 'hfd', Date.now, durable()));
});

test('Redis user store: an identity linked before records listed them is listed at its next sign-in; a stale one signs nobody in', async () => {
  const users = new RedisUserStore(client, 'hft');
  const user = await users.create({ email: `legacy.${Date.now()}@example.com`, passwordHash: 'h' });
  const identityKey = (sub: string) =>
    `{hft:o:${createHash('sha256').update(`github:${sub}`).digest('base64url').slice(0, 32)}}`;
  // The layout before this change: only the identity key.
  await client.set(identityKey('old-1'), user.id);
  expect(await users.listIdentities(user.id)).toEqual([]);
  expect((await users.findByIdentity('github', 'old-1'))?.id).toBe(user.id);
  expect(await users.listIdentities(user.id)).toEqual([{ provider: 'github', subject: 'old-1' }]);
  // A key whose user now lists another account of that provider is stale: no sign-in.
  await client.set(identityKey('old-2'), user.id);
  expect(await users.findByIdentity('github', 'old-2')).toBeNull();
  expect(await users.unlinkIdentity('github', user.id)).toBe(true);
  expect(await users.findByIdentity('github', 'old-1')).toBeNull();

  // A record that names an identity another user holds (a link that stopped half-way): its
  // unlink never removes the other user's link.
  const other = await users.create({
    email: `holder.${Date.now()}@example.com`,
    passwordHash: 'h',
  });
  expect(await users.linkIdentity('github', 'held', other.id)).toBe(true);
  await client.hset(`{hft:u:${user.id}}`, 'o:github', 'held');
  expect(await users.unlinkIdentity('github', user.id)).toBe(true);
  expect((await users.findByIdentity('github', 'held'))?.id).toBe(other.id);
  expect(await users.listIdentities(user.id)).toEqual([]);
});

const settings = {
  accountFailures: 2,
  addressFailures: 100,
  baseDelay: 60_000,
  maxDelay: 600_000,
  window: 3_600_000,
  registrations: 3,
};

test('Redis throttle store: counts are shared by clients and survive a new connection', async () => {
  const a = new LoginThrottle(new RedisThrottleStore(client, 'hft'), settings);
  const other = new Cluster(cluster.seeds);
  try {
    const b = new LoginThrottle(new RedisThrottleStore(other, 'hft'), settings);
    const email = `t.${Date.now()}@x.io`;
    expect((await a.begin(email, '10.0.0.1')).allowed).toBe(true);
    expect((await b.begin(email, '10.0.0.2')).allowed).toBe(true);
    const d = await b.begin(email, '10.0.0.3');
    expect(d.allowed).toBe(false);
    if (!d.allowed) {
      expect(d.scope).toBe('account');
      expect(d.retryAfterMs).toBeGreaterThan(50_000);
    }
  } finally {
    await other.quit();
  }
});

test('Redis throttle store with WAIT (durability): counts, release and reset as without', async () => {
  const store = new RedisThrottleStore(client, 'hfd', durable());
  const rule = { limit: 1, baseDelay: 60_000, maxDelay: 600_000, window: 3_600_000 };
  const key = `w.${Date.now()}`;
  const now = Date.now();
  expect(await store.attempt(key, rule, now)).toBe(0);
  expect(await store.attempt(key, rule, now)).toBe(60_000);
  await store.release(key);
  expect(await store.attempt(key, rule, now)).toBe(0);
  expect(await store.attempt(key, rule, now + 1)).toBe(59_999);
  await store.reset(key);
  expect(await store.attempt(key, rule, now)).toBe(0);
  expect(durability.pending['throttle.attempt']).toBeGreaterThanOrEqual(3);
});

test('Redis throttle store: registrations per address (IPv6 per /64) are counted for every node', async () => {
  const a = new LoginThrottle(new RedisThrottleStore(client, 'hft'), settings);
  const other = new Cluster(cluster.seeds);
  try {
    const b = new LoginThrottle(new RedisThrottleStore(other, 'hft'), settings);
    const net = `2001:db8:${(Date.now() % 0xffff).toString(16)}:${(process.pid % 0xffff).toString(16)}`;
    expect(await a.beginRegistration(`${net}::1`)).toBe(0);
    expect(await b.beginRegistration(`${net}::2`)).toBe(0);
    expect(await a.beginRegistration(`${net}:1:2:3:4`)).toBe(0);
    // The limit (3) is reached across both clients and the whole /64.
    expect(await b.beginRegistration(`${net}::ffff`)).toBeGreaterThan(3_000_000);
    // No address in any key name.
    const keys = (await Promise.all(client.nodes('master').map((n) => n.keys('{hft:t:*')))).flat();
    expect(keys.join(' ')).not.toMatch(/2001|db8/);
  } finally {
    await other.quit();
  }
});

test('Redis user store: a record written before roles existed (no `r` field) reads as no roles and takes roles', async () => {
  const users = new RedisUserStore(client, 'hft');
  const id = `pre-roles-${Date.now()}`;
  // The record exactly as the previous version wrote it: every field but `r`.
  await client.hset(`{hft:u:${id}}`, {
    id,
    e: `pre-roles.${Date.now()}@example.com`,
    n: 'Old',
    ph: 'h',
    v: '0',
    c: '1000',
    pc: '1000',
    cv: '2',
    d: '0',
  });
  const before = await users.findById(id);
  expect(before).toMatchObject({ id, credentialVersion: 2, disabled: false, roles: [] });
  expect(await users.setRoles(id, ['admin', 'ops:read'])).toBe(true);
  expect(await client.hget(`{hft:u:${id}}`, 'r')).toBe('admin ops:read');
  expect(await users.findById(id)).toEqual({ ...before, roles: ['admin', 'ops:read'] });
  // An id the store would never make is refused without a write.
  expect(await users.setRoles('bad id!', ['admin'])).toBe(false);
});

test('a user script that fails on foreign data is HF_STORE_SCRIPT naming the script, not an outage', async () => {
  const prefix = `hfs${Date.now()}`;
  const users = new RedisUserStore(client, prefix);
  // Something other than Holdfast wrote a string where a user record (a HASH) lives.
  await client.set(`{${prefix}:u:foreign-user}`, 'not a hash');
  expectHoldfastError(
    await rejectionOf(users.disable('foreign-user')),
    'HF_STORE_SCRIPT',
    /^store script disable-user failed during users\.disable: WRONGTYPE /,
  );
});
