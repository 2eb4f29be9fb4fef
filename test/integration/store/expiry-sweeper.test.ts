/**
 * The expiry sweeper (ADR 230) on a real Redis: one process of those sharing a store holds the
 * lease and sweeps; another takes over when it gives the lease back or stops renewing it; the
 * sweeps keep counts that read counters alone within the lag bound.
 */
import type { RedisSettings } from '../../../src/config/settings';
import { ExpirySweeper } from '../../../src/store/expiry-sweeper';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { getProvider, notYet, sleep, waitUntil, type RedisNode } from '../../harness';
import { MINUTE, newUserId, redisSettings, session, stored } from '../../support/store-fixtures';

const provider = getProvider();
let server: RedisNode;
let settings: RedisSettings;
const engines: RedisEngine[] = [];
const sweepers: ExpirySweeper[] = [];

beforeAll(async () => {
  server = await provider.standalone();
});
afterAll(async () => {
  await server?.destroy();
});
beforeEach(() => {
  // One key prefix per test: the engines of a test share one store, and so one lease.
  settings = redisSettings({ nodes: [{ host: server.host, port: server.port }] });
});
afterEach(async () => {
  await Promise.all(sweepers.splice(0).map((s) => s.stop()));
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

async function engine(countMaxLagMs = 10_000): Promise<RedisEngine> {
  const e = new RedisEngine(settings, { name: 'holdfast-test', countMaxLagMs });
  await e.start();
  engines.push(e);
  return e;
}

function sweeper(e: RedisEngine, intervalMs: number, leaseMs?: number, clock?: () => number) {
  const s = new ExpirySweeper(e, { intervalMs, leaseMs, clock });
  sweepers.push(s);
  return s;
}

/** Sessions of distinct users expiring at `expiresAt`. */
async function expiring(e: RedisEngine, n: number, now: number, expiresAt: number) {
  for (let i = 0; i < n; i++) {
    const s = session(newUserId(), now, { expiresAt });
    await e.create(e.keys.shardOf(s.userId), stored(s), 5);
  }
}

it('lets one process sweep at a time: the lease holder sweeps, the other does nothing', async () => {
  const now = Date.now();
  const [a, b] = [await engine(), await engine()];
  await expiring(a, 6, now, now + 100);
  await expiring(a, 2, now, now + 30 * MINUTE);
  const at = now + 1000;
  const [first, second] = [sweeper(a, 1000, 5000, () => at), sweeper(b, 1000, 5000, () => at)];

  // A new store's counters are built by its first count (or sweep), from the indexes.
  expect(await b.count(now)).toEqual({ sessions: 8, users: 8, expired: 0 });
  // Before the sweep, a count that reads counters alone still counts the 6 (within the bound).
  expect(await b.count(at)).toEqual({ sessions: 8, users: 8, expired: 0, lagMs: 900 });
  expect(await first.tick()).toMatchObject({ expired: 6, remaining: 0 });
  expect(await second.tick()).toBeNull();
  expect(first.stats).toMatchObject({ holding: true, sweeps: 1, expired: 6 });
  expect(second.stats).toMatchObject({ holding: false, sweeps: 0, expired: 0 });
  expect(await b.count(at)).toEqual({ sessions: 2, users: 2, expired: 0 });

  // Given back on stop: the other takes it at its next tick.
  await first.stop();
  expect(await second.tick()).toMatchObject({ expired: 0 });
  expect(second.stats.holding).toBe(true);
});

it('hands the lease on when its holder stops renewing it', async () => {
  const [a, b] = [await engine(), await engine()];
  const [first, second] = [sweeper(a, 50, 300), sweeper(b, 50, 300)];
  expect(await first.tick()).not.toBeNull();
  expect(await second.tick()).toBeNull();
  // The holder goes silent (a process that hangs or dies): no renewal, the key expires.
  await sleep(400);
  expect(await second.tick()).not.toBeNull();
  expect(await first.tick()).toBeNull();
  expect(first.stats.holding).toBe(false);
});

it('sweeps on its own every interval once started, so counts stay within the bound', async () => {
  const now = Date.now();
  const e = await engine(60_000);
  await expiring(e, 5, now, now + 50);
  await expiring(e, 1, now, now + 30 * MINUTE);
  const s = sweeper(e, 50);
  s.start();
  await waitUntil(
    'the sweeper to take out the 5 expired sessions',
    async () => (s.stats.expired === 5 ? true : notYet(`swept ${s.stats.expired}`)),
    { timeoutMs: 5000, intervalMs: 25 },
  );
  expect(s.stats.failures).toBe(0);
  expect(await e.count(Date.now())).toEqual({ sessions: 1, users: 1, expired: 0 });
  await s.stop();
  // Stopped: the lease is given back at once.
  expect(await e.connection.writes.get(e.keys.sweepLease())).toBeNull();
});

it('counts a failed tick and keeps going', async () => {
  const e = await engine();
  const s = sweeper(e, 1000);
  await e.stop();
  expect(await s.tick()).toBeNull();
  expect(s.stats).toMatchObject({ failures: 1, sweeps: 0 });
});
