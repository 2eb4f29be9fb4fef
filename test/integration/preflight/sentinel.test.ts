/**
 * Preflight against a real Sentinel deployment (master, replica, three sentinels): the healthy
 * set passes with the production defaults; a name the sentinels do not monitor fails (78); a
 * master the sentinels still name after it died is unavailable (69).
 */
import { getProvider, RedisSentinelHandle } from '../../harness';
import { cli, lineOf, preflightThenStart, productionEnv } from './helpers';

jest.setTimeout(90_000);

let set: RedisSentinelHandle;

beforeAll(async () => {
  // No failover during these tests: the sentinels keep naming the master they know.
  set = await getProvider().sentinel({ downAfterMs: 60_000, failoverTimeoutMs: 120_000 });
});

afterAll(async () => {
  await set?.stop();
});

const sentinelEnv = (extra: NodeJS.ProcessEnv = {}) =>
  productionEnv(set.sentinels, {
    HOLDFAST_STORE__REDIS__MODE: 'sentinel',
    HOLDFAST_STORE__REDIS__SENTINEL_NAME: set.name,
    HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER: '1',
    ...extra,
  });

test('a healthy sentinel set passes: master and replica found through the sentinels', async () => {
  const r = await cli(['preflight'], await sentinelEnv());
  expect(r.out.filter((l) => /^(FAIL|WARN|WAIT)/.test(l))).toEqual([]);
  expect(r.code).toBe(0);
  expect(lineOf(r.out, 'store.mode')).toMatch(/^PASS store\.mode +found 3 nodes in sentinel mode/);
  expect(lineOf(r.out, 'sentinel.master')).toMatch(
    new RegExp(
      `^PASS sentinel\\.master +found 3 sentinels name 127\\.0\\.0\\.1:${set.master.port} as master "${set.name}"`,
    ),
  );
  expect(lineOf(r.out, 'store.replicas')).toMatch(
    /^PASS store\.replicas +found 1 master, each with at least 1 online replica/,
  );
  // Both data nodes were looked at, not only the master.
  expect(lineOf(r.out, 'store.persistence')).toContain(String(set.replica.port));
});

test('sentinel.master: a name the sentinels do not monitor fails (78)', async () => {
  const { preflight } = await preflightThenStart(
    await sentinelEnv({ HOLDFAST_STORE__REDIS__SENTINEL_NAME: 'no-such-master' }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'sentinel.master')).toMatch(
    /^FAIL sentinel\.master +found no sentinel knows "no-such-master": 127\.0\.0\.1:\d+ does not monitor a master named "no-such-master".*; expected a master named "no-such-master" \(store\.redis\.sentinelName\), answering as master; fix: set store\.redis\.sentinelName \(HOLDFAST_STORE__REDIS__SENTINEL_NAME\)/,
  );
});

// Last: the master stays down.
test('sentinel.master: a master that does not answer is unavailable (69)', async () => {
  await set.master.kill9();
  const { preflight } = await preflightThenStart(await sentinelEnv());
  expect(preflight.code).toBe(69);
  expect(lineOf(preflight.out, 'sentinel.master')).toMatch(
    new RegExp(
      `^FAIL sentinel\\.master +found the sentinels name 127\\.0\\.0\\.1:${set.master.port} as master, and it does not answer \\(connection refused\\); .*fix: start the master, or wait for the sentinels to fail over`,
    ),
  );
});
