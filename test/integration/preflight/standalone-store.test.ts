/**
 * Preflight against a real standalone Redis: each misconfiguration of the store is made for real
 * (CONFIG SET, HSET, a removed data directory, a reload), then `holdfast preflight` and
 * `holdfast start` must print the documented line, exit with the documented code, and never
 * open the HTTP port.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHECK_IDS } from '../../../src/preflight';
import { getProvider, parseInfo, redisCommand, RedisNode, waitUntil, notYet } from '../../harness';
import { cli, lineOf, preflightThenStart, productionEnv } from './helpers';

jest.setTimeout(60_000);

let node: RedisNode;

beforeAll(async () => {
  node = await getProvider().standalone();
});

afterAll(async () => {
  await node?.destroy();
});

const config = async (param: string, value: string | number) =>
  node.command(['CONFIG', 'SET', param, value]);

test('a healthy standalone store passes every check that applies, exit 0', async () => {
  const r = await cli(['preflight'], await productionEnv([node]));
  expect(r.code).toBe(0);
  expect(r.out).toHaveLength(CHECK_IDS.length + 1);
  for (const line of r.out.slice(0, -1)) expect(line).toMatch(/^(PASS|SKIP) /);
  expect(lineOf(r.out, 'store.persistence')).toMatch(
    /^PASS .*found appendonly yes \(appendfsync everysec\), no save points/,
  );
  expect(lineOf(r.out, 'cluster.state')).toMatch(/skipped: store\.redis\.mode is standalone/);
});

test('store.persistence: no AOF and no RDB fails with the node, what it has and the fix (78)', async () => {
  await config('appendonly', 'no');
  try {
    const { preflight } = await preflightThenStart(await productionEnv([node]));
    expect(preflight.code).toBe(78);
    expect(lineOf(preflight.out, 'store.persistence')).toMatch(
      new RegExp(
        `^FAIL store\\.persistence +found ${node.host}:${node.port} \\(master\\): appendonly no, no save points; ` +
          'expected AOF or RDB snapshots on every node \\(store\\.redis\\.require\\.persistence any\\); fix: set appendonly yes',
      ),
    );
  } finally {
    await config('appendonly', 'yes');
  }
});

test('store.persistence: require aof with only RDB snapshots fails; rdb then passes', async () => {
  await config('appendonly', 'no');
  await config('save', '3600 1');
  try {
    const aof = await preflightThenStart(
      await productionEnv([node], { HOLDFAST_STORE__REDIS__REQUIRE__PERSISTENCE: 'aof' }),
    );
    expect(lineOf(aof.preflight.out, 'store.persistence')).toMatch(
      /^FAIL store\.persistence +found .*appendonly no, save "3600 1"; expected appendonly yes on every node \(store\.redis\.require\.persistence aof\)/,
    );
    const rdb = await cli(
      ['preflight'],
      await productionEnv([node], { HOLDFAST_STORE__REDIS__REQUIRE__PERSISTENCE: 'rdb' }),
    );
    expect(lineOf(rdb.out, 'store.persistence')).toMatch(/^PASS /);
    expect(rdb.code).toBe(0);
  } finally {
    await config('save', '');
    await config('appendonly', 'yes');
  }
});

test('store.eviction: allkeys-lru fails in production (78) and warns in development (0)', async () => {
  await config('maxmemory-policy', 'allkeys-lru');
  try {
    const { preflight } = await preflightThenStart(await productionEnv([node]));
    expect(preflight.code).toBe(78);
    expect(lineOf(preflight.out, 'store.eviction')).toMatch(
      /^FAIL store\.eviction +found 127\.0\.0\.1:\d+: maxmemory-policy allkeys-lru; expected one of noeviction, volatile-lru, volatile-lfu, volatile-ttl, volatile-random \(store\.redis\.require\.evictionPolicies\); fix: CONFIG SET maxmemory-policy noeviction/,
    );
    const dev = await cli(
      ['preflight'],
      await productionEnv([node], { HOLDFAST_ENV: 'development', HOLDFAST_STORE__TYPE: 'redis' }),
    );
    expect(lineOf(dev.out, 'store.eviction')).toMatch(/^WARN store\.eviction +found .*allkeys-lru/);
    expect(dev.code).toBe(0);
  } finally {
    await config('maxmemory-policy', 'noeviction');
  }
});

test('store.memory: close to maxmemory warns (0); at maxmemory fails (78)', async () => {
  const used = Number((await node.info('memory')).used_memory);
  try {
    await config('maxmemory', Math.round(used * 1.04));
    // A store sized for a handful of sessions: store.capacity (ADR 171) judges maxmemory against
    // store.expectedSessions, and this test is about store.memory alone.
    const few = { HOLDFAST_STORE__EXPECTED_SESSIONS: '10' };
    const close = await cli(['preflight'], await productionEnv([node], few));
    expect(lineOf(close.out, 'store.memory')).toMatch(
      /^WARN store\.memory +found 127\.0\.0\.1:\d+ uses .* of maxmemory .* \(9\d%\); expected used_memory below 90% of maxmemory/,
    );
    expect(close.code).toBe(0);
    await config('maxmemory', Math.round(used / 2));
    const { preflight } = await preflightThenStart(await productionEnv([node]));
    expect(preflight.code).toBe(78);
    expect(lineOf(preflight.out, 'store.memory')).toMatch(
      /^FAIL store\.memory +found .* \(\d{3}%\);.*new sessions cannot be written/,
    );
  } finally {
    await config('maxmemory', 0);
  }
});

test('store.version: below store.redis.require.minVersion fails (78)', async () => {
  const { preflight } = await preflightThenStart(
    await productionEnv([node], { HOLDFAST_STORE__REDIS__REQUIRE__MIN_VERSION: '99.0.0' }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'store.version')).toMatch(
    /^FAIL store\.version +found 127\.0\.0\.1:\d+ runs Redis 7\.\d+\.\d+; expected Redis 99\.0\.0 or newer \(store\.redis\.require\.minVersion\); fix: upgrade Redis/,
  );
});

test('store.replicas: a master without the required replica fails (78)', async () => {
  const { preflight } = await preflightThenStart(
    await productionEnv([node], { HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER: '1' }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'store.replicas')).toMatch(
    /^FAIL store\.replicas +found 127\.0\.0\.1:\d+ has 0 online replicas; expected at least 1 online replica per master \(store\.redis\.require\.replicasPerMaster\); fix: add replicas/,
  );
});

test('store.durability: writes waiting for a replica that does not exist fail (78)', async () => {
  const { preflight } = await preflightThenStart(
    await productionEnv([node], { HOLDFAST_STORE__REDIS__DURABILITY__REPLICAS: '1' }),
  );
  expect(preflight.code).toBe(78);
  expect(lineOf(preflight.out, 'store.durability')).toMatch(
    /^FAIL store\.durability +found 127\.0\.0\.1:\d+ has 0 online replicas: every write would wait for acknowledgements that cannot come, and fail; expected at least 1 online replica per master \(store\.redis\.durability\.replicas\)/,
  );
});

test('store.layout: a shard count other than the recorded one fails (78); the same passes', async () => {
  const env = await productionEnv([node]);
  const meta = `{${env.HOLDFAST_STORE__REDIS__KEY_PREFIX}}:meta`;
  await node.command([
    'HSET',
    meta,
    'shards',
    '128',
    'keyPrefix',
    String(env.HOLDFAST_STORE__REDIS__KEY_PREFIX),
    'format',
    'session-3 series-2',
    'liveBuckets',
    '64',
    'userBuckets',
    '16',
  ]);
  try {
    const { preflight } = await preflightThenStart(env);
    expect(preflight.code).toBe(78);
    expect(lineOf(preflight.out, 'store.layout')).toMatch(
      new RegExp(
        `^FAIL store\\.layout +found \\{${env.HOLDFAST_STORE__REDIS__KEY_PREFIX}\\}:meta records shards 128; store\\.redis\\.shards is 256; ` +
          'expected store\\.redis\\.shards 128, as recorded at the first start; fix: set store\\.redis\\.shards \\(HOLDFAST_STORE__REDIS__SHARDS\\) back to 128',
      ),
    );
    const same = await cli(['preflight'], { ...env, HOLDFAST_STORE__REDIS__SHARDS: '128' });
    expect(lineOf(same.out, 'store.layout')).toMatch(
      /^PASS store\.layout +found .* records shards 128, format "session-3 series-2" \(holdfast store upgrade-format moves it to "session-4 series-2" once every node runs this version\), buckets 64 live \/ 16 user/,
    );
  } finally {
    await node.command(['DEL', meta]);
  }
});

test('store.layout: records written by another format fail (78)', async () => {
  const env = await productionEnv([node]);
  const meta = `{${env.HOLDFAST_STORE__REDIS__KEY_PREFIX}}:meta`;
  await node.command(['HSET', meta, 'shards', '256', 'format', 'session-9 series-9']);
  try {
    const { preflight } = await preflightThenStart(env);
    expect(lineOf(preflight.out, 'store.layout')).toMatch(
      /^FAIL store\.layout +found .* records format "session-9 series-9"; expected format "session-3 series-2" or "session-4 series-2"/,
    );
  } finally {
    await node.command(['DEL', meta]);
  }
});

test('store.layout: index bucket counts other than the recorded ones fail (78)', async () => {
  const env = await productionEnv([node]);
  const meta = `{${env.HOLDFAST_STORE__REDIS__KEY_PREFIX}}:meta`;
  await node.command([
    'HSET',
    meta,
    'shards',
    '256',
    'format',
    'session-3 series-2',
    'liveBuckets',
    '32',
    'userBuckets',
    '16',
  ]);
  try {
    const { preflight } = await preflightThenStart(env);
    expect(preflight.code).toBe(78);
    expect(lineOf(preflight.out, 'store.layout')).toMatch(
      /^FAIL store\.layout +found .* records liveBuckets 32; this version of Holdfast uses liveBuckets 64; expected buckets 64 live \/ 16 user/,
    );
  } finally {
    await node.command(['DEL', meta]);
  }
});

describe('on servers of their own', () => {
  test('store.persistence.errors: a failed RDB save fails (78) until a save succeeds', async () => {
    // Redis 7 refuses CONFIG SET dir unless protected configs are enabled.
    const server = await getProvider().standalone({
      appendonly: false,
      save: '3600 1',
      extraArgs: ['--enable-protected-configs', 'local'],
    });
    const gone = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-gone-'));
    try {
      await server.command(['SET', 'k', 'v']);
      await server.command(['CONFIG', 'SET', 'dir', gone]);
      fs.rmSync(gone, { recursive: true });
      await server.command(['BGSAVE']);
      await waitUntil(
        'the background save to fail',
        async () => {
          const p = await server.info('persistence');
          return p.rdb_bgsave_in_progress === '0' && p.rdb_last_bgsave_status === 'err'
            ? p
            : notYet(p.rdb_last_bgsave_status);
        },
        { timeoutMs: 10_000 },
      );
      const env = await productionEnv([server]);
      const { preflight } = await preflightThenStart(env);
      expect(preflight.code).toBe(78);
      expect(lineOf(preflight.out, 'store.persistence.errors')).toMatch(
        /^FAIL store\.persistence\.errors +found 127\.0\.0\.1:\d+ \(master\): rdb_last_bgsave_status:err \(the last RDB save failed\); expected rdb_last_bgsave_status, aof_last_write_status and aof_last_bgrewrite_status ok; fix: read the node's log/,
      );
      // The server's working directory is the removed one: point it at a directory that exists.
      fs.mkdirSync(gone);
      await server.command(['CONFIG', 'SET', 'dir', gone]);
      await server.command(['BGSAVE']);
      await waitUntil(
        'a save to succeed',
        async () =>
          (await server.info('persistence')).rdb_last_bgsave_status === 'ok' ? true : notYet('err'),
        { timeoutMs: 10_000 },
      );
      expect(lineOf((await cli(['preflight'], env)).out, 'store.persistence.errors')).toMatch(
        /^PASS /,
      );
    } finally {
      await server.destroy();
      fs.rmSync(gone, { recursive: true, force: true });
    }
  });

  test('store.config-access: CONFIG refused warns, naming what was checked from INFO and what not', async () => {
    const server = await getProvider().standalone({
      extraArgs: ['--rename-command', 'CONFIG', ''],
    });
    try {
      const any = await cli(['preflight'], await productionEnv([server]));
      expect(lineOf(any.out, 'store.config-access')).toMatch(
        /^WARN store\.config-access +found CONFIG GET refused on 127\.0\.0\.1:\d+ \(ERR unknown command 'CONFIG'.*\); checked from INFO instead: AOF on\/off, maxmemory, maxmemory-policy; not checked: RDB save points, appendfsync/,
      );
      // AOF is visible in INFO: "any" is still decided.
      expect(lineOf(any.out, 'store.persistence')).toMatch(
        /^PASS store\.persistence +found appendonly yes, save points unknown/,
      );
      expect(any.code).toBe(0);
      // Save points are not: "rdb" cannot be decided, and the line says so.
      const rdb = await cli(
        ['preflight'],
        await productionEnv([server], { HOLDFAST_STORE__REDIS__REQUIRE__PERSISTENCE: 'rdb' }),
      );
      expect(lineOf(rdb.out, 'store.persistence')).toMatch(
        /^WARN store\.persistence +found 127\.0\.0\.1:\d+: appendonly yes, save points unknown \(CONFIG GET refused\)/,
      );
      expect(rdb.code).toBe(0);
    } finally {
      await server.destroy();
    }
  });

  test('store.loading: a node still loading its data is "not yet" (69), not a failure', async () => {
    const server = await getProvider().standalone({
      appendonly: false,
      extraArgs: [
        '--enable-debug-command',
        'local',
        '--loading-process-events-interval-bytes',
        '1024',
      ],
    });
    try {
      await server.command(['DEBUG', 'POPULATE', 4000]);
      await server.command(['CONFIG', 'SET', 'key-load-delay', 2000]);
      // DEBUG RELOAD saves and reloads; while it loads (about 8 s) the server answers -LOADING.
      const reload = redisCommand(server, ['DEBUG', 'RELOAD'], { timeoutMs: 60_000 }).catch(
        (err: Error) => err.message,
      );
      await waitUntil(
        'the node to report loading',
        async () => {
          const text = await redisCommand(server, ['INFO', 'persistence'], { timeoutMs: 5000 });
          return parseInfo(String(text)).loading === '1' ? true : notYet('loading:0');
        },
        { timeoutMs: 10_000 },
      );
      // No persistence on this server: only the loading matters here.
      const env = await productionEnv([server], {
        HOLDFAST_STORE__REDIS__REQUIRE__PERSISTENCE: 'none',
      });
      const { preflight } = await preflightThenStart(env);
      expect(preflight.code).toBe(69);
      expect(lineOf(preflight.out, 'store.loading')).toMatch(
        /^WAIT store\.loading +found 127\.0\.0\.1:\d+ \(master\) is loading its data \(\d+(\.\d+)?%.*\); expected every node serving \(loading:0\); fix: wait/,
      );
      expect(preflight.out.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(await reload).toBe('OK');
      await server.command(['CONFIG', 'SET', 'key-load-delay', 0]);
      expect((await cli(['preflight'], env)).code).toBe(0);
    } finally {
      await server.destroy();
    }
  });
});
