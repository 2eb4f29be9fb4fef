import { Cluster } from 'ioredis';
import { getProvider, RedisClusterHandle } from '../../harness';
import { AccountTokens, RedisTokenBackend } from '../../../src/users';
import { accountTokenContract } from './account-token-contract';

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

accountTokenContract('Redis Cluster', () => ({
  backend: new RedisTokenBackend(() => client),
  prefix: 'hft',
}));

test('Redis: records expire by PX too, and no key names a secret', async () => {
  const tokens = new AccountTokens(new RedisTokenBackend(client), 'hfx');
  const { token } = await tokens.issue('reset', 'user-px', 0, 200);
  const [id, secret] = token.split('.');
  const keys = (await Promise.all(client.nodes('master').map((n) => n.keys('{hfx:*')))).flat();
  expect(keys.sort()).toEqual([`{hfx:k:reset:${id}}`, '{hfx:ku:reset:user-px}']);
  expect(keys.join(' ')).not.toContain(secret);
  const pttl = await client.pttl(`{hfx:k:reset:${id}}`);
  expect(pttl).toBeGreaterThan(0);
  expect(pttl).toBeLessThanOrEqual(200);
  await new Promise((r) => setTimeout(r, 300));
  expect(await client.exists(`{hfx:k:reset:${id}}`)).toBe(0);
  expect(await client.exists('{hfx:ku:reset:user-px}')).toBe(0);
});
