/**
 * Drift of a running store's configuration (ADR 171) on real Redis, changed with CONFIG SET during
 * the run: the start's preflight is the baseline, StoreDrift re-runs the same checks on the same
 * facts gathering, reports a change once, again only when its line changes, and once when it is
 * back. And store.capacity: maxmemory against store.expectedSessions at the measured bytes.
 */
import { loadSettings, Settings } from '../../../src/config';
import { DriftChange, StoreDrift } from '../../../src/health';
import { runPreflight } from '../../../src/preflight';
import { SESSION_BYTES } from '../../../src/preflight/checks/capacity-check';
import { getProvider, RedisNode, waitUntil, notYet } from '../../harness';

jest.setTimeout(60_000);

let master: RedisNode;
let replica: RedisNode;

beforeAll(async () => {
  [master, replica] = await Promise.all([getProvider().standalone(), getProvider().standalone()]);
  await replica.command(['REPLICAOF', master.host, master.port]);
  await waitUntil(
    'the replica online',
    async () =>
      (await master.info('replication')).slave0?.includes('state=online') ? true : notYet(''),
    { timeoutMs: 20_000, intervalMs: 100 },
  );
});

afterAll(async () => {
  await Promise.all([master?.destroy(), replica?.destroy()]);
});

function settings(extra: NodeJS.ProcessEnv = {}): Settings {
  return loadSettings({
    env: {
      HOLDFAST_ENV: 'production',
      HOLDFAST_COOKIE__PASSWORD: 'drift test cookie password of enough length',
      HOLDFAST_HTTP__PORT: '0',
      HOLDFAST_METRICS__PORT: '0',
      HOLDFAST_STORE__REDIS__MODE: 'standalone',
      HOLDFAST_STORE__REDIS__NODES: `${master.host}:${master.port}`,
      HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER: '1',
      HOLDFAST_STORE__EXPECTED_SESSIONS: '1000',
      ...extra,
    },
  });
}

async function watch(s: Settings) {
  const start = await runPreflight({ settings: s });
  expect(start.exitCode).toBe(0);
  const drift = new StoreDrift(s, start.results, { intervalMs: 0 });
  const changes: DriftChange[] = [];
  drift.on('change', (c) => changes.push(c));
  return { drift, changes };
}

const lines = (changes: DriftChange[]) => changes.map((c) => [c.drifted, c.line]);

test('AOF switched off, then allkeys-lru, then both back: one change each way, with the preflight line', async () => {
  const s = settings();
  const { drift, changes } = await watch(s);
  await drift.check();
  expect(changes).toEqual([]);

  await master.command(['CONFIG', 'SET', 'appendonly', 'no']);
  await replica.command(['CONFIG', 'SET', 'appendonly', 'no']);
  await drift.check();
  await drift.check();
  expect(lines(changes)).toEqual([
    [
      true,
      expect.stringMatching(
        /^FAIL store\.persistence +found .*\(master\): appendonly no, no save points.*; expected AOF or RDB snapshots on every node \(store\.redis\.require\.persistence any\); fix: set appendonly yes/,
      ),
    ],
  ]);
  expect(drift.values.get('store.persistence')).toBe(1);

  await master.command(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']);
  await drift.check();
  expect(lines(changes.slice(1))).toEqual([
    [
      true,
      expect.stringMatching(
        /^FAIL store\.eviction +found .*: maxmemory-policy allkeys-lru; expected one of noeviction, .*; fix: CONFIG SET maxmemory-policy noeviction/,
      ),
    ],
  ]);

  await master.command(['CONFIG', 'SET', 'appendonly', 'yes']);
  await replica.command(['CONFIG', 'SET', 'appendonly', 'yes']);
  await master.command(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
  await drift.check();
  await drift.check();
  expect(changes.slice(2).map((c) => [c.check, c.drifted, c.result.status])).toEqual([
    ['store.persistence', false, 'pass'],
    ['store.eviction', false, 'pass'],
  ]);
  expect([...drift.values.values()]).toEqual([0, 0, 0, 0]);
});

test('a replica lost: store.replicas drifts once; linked again: back', async () => {
  const { drift, changes } = await watch(settings());
  await replica.command(['REPLICAOF', 'NO', 'ONE']);
  await drift.check();
  await drift.check();
  expect(lines(changes)).toEqual([
    [
      true,
      expect.stringMatching(
        /^FAIL store\.replicas +found [\d.:]+ has 0 online replicas; expected at least 1 online replica per master/,
      ),
    ],
  ]);
  await replica.command(['REPLICAOF', master.host, master.port]);
  await waitUntil(
    'store.replicas back',
    async () => {
      await drift.check();
      return changes.at(-1)?.drifted === false ? true : notYet('');
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  // Between the two, at most one more line: the replica linking ("1 linking or syncing").
  expect(changes.length).toBeLessThanOrEqual(3);
  expect(changes.at(-1)).toMatchObject({ check: 'store.replicas', drifted: false });
  expect(changes.at(-1)?.line).toMatch(
    /^PASS store\.replicas +found 1 master, each with at least 1 online replica;/,
  );
});

test('store.capacity: 2 MB maxmemory fails in production with the numbers, warns elsewhere; maxmemory 0 warns only when the machine cannot hold them', async () => {
  await master.command(['CONFIG', 'SET', 'maxmemory', String(2 * 1024 * 1024)]);
  try {
    const r = await runPreflight({
      settings: settings({ HOLDFAST_STORE__EXPECTED_SESSIONS: '1000000' }),
    });
    const line = r.results.find((x) => x.id === 'store.capacity');
    expect(line).toMatchObject({
      status: 'fail',
      observed: `${master.host}:${master.port} (master): maxmemory 2.0 MB holds about ${Math.floor((2 * 1024 * 1024 * 0.9) / SESSION_BYTES).toLocaleString('en-US')} sessions, 1,000,000 expected per master`,
      expected:
        'maxmemory of at least 423.9 MB per master: 1,000,000 sessions (store.expectedSessions) over 1 master at 400 B each, below 90%',
    });
    expect(r.exitCode).toBe(78);
    const dev = await runPreflight({
      settings: settings({
        HOLDFAST_ENV: 'development',
        HOLDFAST_STORE__TYPE: 'redis',
        HOLDFAST_STORE__EXPECTED_SESSIONS: '1000000',
      }),
    });
    expect(dev.results.find((x) => x.id === 'store.capacity')?.status).toBe('warn');
    // 1000 sessions fit in 2 MB.
    const small = await runPreflight({ settings: settings() });
    expect(small.results.find((x) => x.id === 'store.capacity')).toMatchObject({
      status: 'pass',
      observed: '1,000 sessions per master fit on 1 master',
    });
  } finally {
    await master.command(['CONFIG', 'SET', 'maxmemory', '0']);
  }
  // No maxmemory: judged against the machine's memory; 1000 sessions fit, a billion do not.
  const prod = await runPreflight({ settings: settings() });
  expect(prod.results.find((x) => x.id === 'store.capacity')).toMatchObject({
    status: 'pass',
    observed: '1,000 sessions per master fit on 1 master (1 without maxmemory)',
  });
  const huge = await runPreflight({
    settings: settings({ HOLDFAST_STORE__EXPECTED_SESSIONS: '1000000000000' }),
  });
  expect(huge.exitCode).toBe(0);
  expect(huge.results.find((x) => x.id === 'store.capacity')).toMatchObject({
    status: 'warn',
    observed: expect.stringMatching(
      new RegExp(
        `^${master.host}:${master.port} \\(master\\): no maxmemory and [\\d.]+ [KMG]?B of system memory holds about [\\d,]+ sessions, 1,000,000,000,000 expected per master$`,
      ),
    ),
  });
});

test('maxmemory lowered while running: store.capacity drifts', async () => {
  const { drift, changes } = await watch(settings());
  try {
    await master.command(['CONFIG', 'SET', 'maxmemory', String(256 * 1024)]);
    await drift.check();
    expect(changes.map((c) => [c.check, c.drifted, c.result.status])).toEqual([
      ['store.capacity', true, 'fail'],
    ]);
    expect(changes[0].line).toMatch(/maxmemory 256 KB holds about 589 sessions, 1,000 expected/);
  } finally {
    await master.command(['CONFIG', 'SET', 'maxmemory', '0']);
  }
});
