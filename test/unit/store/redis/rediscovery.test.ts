/**
 * Rediscovery's rules without Redis (ADR 210): real ioredis Cluster clients that never connect
 * (lazyConnect), a real DNS server on loopback. What the clients reconnect to is ioredis's
 * `startupNodes`, read here through Rediscovery.seeds.
 */
import { Cluster } from 'ioredis';
import { Rediscovery, resolveName, SeedLog } from '../../../../src/store/redis/rediscovery';
import { TestDnsServer } from '../../../support/dns-server';
import { redisSettings } from '../../../support/store-fixtures';

const NAME = 'redis.rediscovery.test';
let dns: TestDnsServer;
const clients: Cluster[] = [];

function cluster(port = 1): Cluster {
  const c = new Cluster([{ host: '127.0.0.1', port }], { lazyConnect: true });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dns = await TestDnsServer.start();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await dns.close();
});

const dnsSettings = () =>
  redisSettings({
    mode: 'cluster',
    dns: { name: NAME, port: 7000 },
    dnsServers: [dns.address],
    rediscoverInterval: 0,
  });

test('resolveName asks the configured server and gives every A record with dns.port', async () => {
  dns.set(NAME, ['127.0.0.5', '127.0.0.6']);
  expect(await resolveName(dnsSettings())).toEqual([
    { host: '127.0.0.5', port: 7000 },
    { host: '127.0.0.6', port: 7000 },
  ]);
  await expect(
    resolveName({ ...dnsSettings(), dns: { name: 'unknown.rediscovery.test', port: 1 } }),
  ).rejects.toThrow(/ENOTFOUND|queryA/);
});

test('a changed answer replaces both clients seeds once and is counted; the same answer changes nothing', async () => {
  const log = new SeedLog();
  const [reads, writes] = [cluster(), cluster()];
  const r = new Rediscovery(dnsSettings(), [reads, writes], log);
  dns.set(NAME, ['127.0.0.7']);
  await r.refresh();
  expect(r.seeds).toEqual([{ host: '127.0.0.7', port: 7000 }]);
  const startupOf = (c: Cluster) => (c as unknown as { startupNodes: unknown }).startupNodes;
  expect(startupOf(writes)).toEqual([{ host: '127.0.0.7', port: 7000 }]);
  expect(log.changes).toBe(1);
  await r.refresh();
  expect(log.changes).toBe(1);
  r.stop();
});

test('a name that stops resolving keeps the last seeds and counts the failure', async () => {
  const log = new SeedLog();
  const r = new Rediscovery(dnsSettings(), [cluster()], log);
  dns.set(NAME, ['127.0.0.8']);
  await r.refresh();
  dns.set(NAME, []);
  await r.refresh();
  expect(r.seeds).toEqual([{ host: '127.0.0.8', port: 7000 }]);
  expect(log.resolveFailures).toBe(1);
  r.stop();
});

test('connection failures re-resolve at most once a second', async () => {
  let now = 10_000;
  const c = cluster();
  const r = new Rediscovery(dnsSettings(), [c], new SeedLog(), () => now);
  dns.set(NAME, ['127.0.0.9']);
  const asked = () => dns.queries.get(NAME) ?? 0;
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
  const before = asked();
  c.emit('node error', new Error('refused'), '127.0.0.1:1');
  await settle();
  expect(asked() - before).toBe(1);
  now += 999;
  c.emit('node error', new Error('refused'), '127.0.0.1:1');
  c.emit('reconnecting');
  await settle();
  expect(asked() - before).toBe(1);
  now += 1;
  c.emit('reconnecting');
  await settle();
  expect(asked() - before).toBe(2);
  r.stop();
  now += 5000;
  c.emit('node error', new Error('refused'), '127.0.0.1:1');
  await settle();
  expect(asked() - before).toBe(2);
});

test('seed list before any slot map was seen: the configured seeds stay, nothing is counted', async () => {
  const settings = redisSettings({
    mode: 'cluster',
    nodes: [{ host: '127.0.0.1', port: 1 }],
    rediscoverInterval: 0,
  });
  const c = cluster();
  const log = new SeedLog();
  const r = new Rediscovery(settings, [c], log);
  await r.refresh();
  expect(r.seeds).toEqual([{ host: '127.0.0.1', port: 1 }]);
  expect(log.changes).toBe(0);
  r.stop();
});
