/**
 * The account lifecycle suite on a real Redis (standalone), and what a delete leaves in Redis:
 * every key and index entry of the user is gone; the one field left is the user's credential
 * epoch in a shared bucket (ADR 040), which keeps a sign-in that read the record before the delete
 * from making a session.
 */
import type Redis from 'ioredis';
import { loadSettings } from '../../../src/config';
import { createServices, Services } from '../../../src/server/services';
import { getProvider, RedisNode } from '../../harness';
import {
  address,
  client,
  lifecycleSuite,
  PASSWORD,
  provider,
} from '../../support/suites/lifecycle-suite';

jest.setTimeout(120_000);

let redis: RedisNode;
const settingsFor = (node: RedisNode) =>
  loadSettings({
    env: {
      NODE_ENV: 'test',
      HOLDFAST_STORE__TYPE: 'redis',
      HOLDFAST_STORE__REDIS__MODE: 'standalone',
      HOLDFAST_STORE__REDIS__NODES: `${node.host}:${node.port}`,
      HOLDFAST_STORE__REDIS__SHARDS: '16',
    },
  });

beforeAll(async () => {
  redis = await getProvider().standalone();
}, 60_000);

afterAll(async () => {
  await redis?.destroy();
});

lifecycleSuite(
  'Redis standalone',
  async (hooks) => {
    const services = createServices(settingsFor(redis), { hooks });
    await services.store.start();
    return services;
  },
  async (s) => {
    await s.store.stop();
  },
);

/** Every key of the store, and what names `needle`: key names, values, hash fields, set members. */
async function mentions(r: Redis, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const key of await r.keys('*')) {
    if (key.includes(needle)) found.push(`key ${key}`);
    const type = await r.type(key);
    if (type === 'string') {
      if ((await r.getBuffer(key))?.includes(needle)) found.push(`value of ${key}`);
    } else if (type === 'hash') {
      const h = await r.hgetall(key);
      for (const [f, v] of Object.entries(h))
        if (f.includes(needle) || v.includes(needle)) found.push(`${key} field ${f}`);
    } else if (type === 'zset') {
      for (const m of await r.zrange(key, 0, -1))
        if (m.includes(needle)) found.push(`${key} member ${m}`);
    } else if (type === 'set') {
      for (const m of await r.smembers(key))
        if (m.includes(needle)) found.push(`${key} member ${m}`);
    }
  }
  return found;
}

describe('a delete on Redis leaves no key of the user', () => {
  let s: Services;
  beforeAll(async () => {
    s = createServices(settingsFor(redis));
    await s.store.start();
  });
  afterAll(async () => {
    await s?.store.stop();
  });

  test('after users delete: no user record, email index, identity key, session, series or index entry; only the credential epoch field', async () => {
    const email = address('keys');
    const reg = await s.accounts.register({ email, password: PASSWORD, name: 'Ada' }, client);
    const id = reg.user.id;
    await s.accounts.login({ email, password: PASSWORD, remember: true }, client);
    const identity = provider(email);
    expect(await s.accounts.linkIdentity(reg.issued!.session, identity)).toBe(true);
    await s.accounts.setRoles(id, ['admin']);
    if (s.store.kind !== 'redis') throw new Error('this test needs the Redis engine');
    const r = s.store.connection.reads as Redis;
    const keysBefore = await r.keys('*');
    const before = await mentions(r, id);
    // The record, the email index and identity keys (values), sessions, series and indexes.
    expect(before.some((m) => m.startsWith(`key {hf:u:${id}}`))).toBe(true);
    expect(before.filter((m) => m.startsWith('value of {hf:e:'))).toHaveLength(1);
    expect(before.filter((m) => m.startsWith('value of {hf:o:'))).toHaveLength(1);
    expect(before.some((m) => /:users:\d+ field /.test(m))).toBe(true);
    expect(before.some((m) => /:rusers:\d+ field /.test(m))).toBe(true);

    expect(await s.admin.delete({ email })).toBe(true);

    const after = await mentions(r, id);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatch(/^\{hf:\d+\}:cred:\d+ field /);
    // Keys that held nothing of the user's are still there; the user's are gone.
    const keysAfter = await r.keys('*');
    const gone = keysBefore.filter((k) => !keysAfter.includes(k));
    expect(gone).toEqual(
      expect.arrayContaining([`{hf:u:${id}}`, expect.stringMatching(/^\{hf:e:/)]),
    );
    expect(gone.filter((k) => k.startsWith('{hf:o:'))).toHaveLength(1);

    // The address registers again, as a new user.
    const reborn = await s.accounts.register({ email, password: PASSWORD }, client);
    expect(reborn.user.id).not.toBe(id);
  });
});
