/**
 * `holdfast store balance` on a real 4-master cluster: the report counts each master's shards as
 * Redis places them (every shard's tag checked with CLUSTER KEYSLOT); a cluster made uneven on
 * purpose is planned and applied while loops of signed-in users read, renew and create sessions,
 * with no failed request and no session lost; afterwards every master is within one shard.
 */
import { storeUnavailable } from '../../../src/store';
import { KeyLayout } from '../../../src/store/keys';
import { applyMoves, readMasters } from '../../../src/store/redis/cluster-balance';
import { shardSlots } from '../../../src/store/redis/hash-slot';
import { RedisTopology } from '../../../src/health';
import { RedisEngine } from '../../../src/store/redis/redis-engine';
import { getProvider, type RedisClusterHandle } from '../../harness';
import { cli, lineOf, productionEnv } from '../preflight/helpers';
import {
  MINUTE,
  newPrefix,
  newUserId,
  redisSettings,
  session,
  stored,
} from '../../support/store-fixtures';

jest.setTimeout(90_000);

interface Report {
  shards: number;
  ratio: number;
  balanced: boolean;
  masters: Array<{ id: string; address: string; slots: number; shards: number }>;
}

let cluster: RedisClusterHandle;
let engine: RedisEngine | undefined;
const prefix = newPrefix();

beforeAll(async () => {
  cluster = await getProvider().cluster({ masters: 4, replicasPerMaster: 0 });
}, 60_000);
afterAll(async () => {
  await engine?.stop();
  await cluster?.stop();
});

const env = () =>
  productionEnv(cluster.seeds, {
    HOLDFAST_STORE__REDIS__MODE: 'cluster',
    HOLDFAST_STORE__REDIS__KEY_PREFIX: prefix,
    HOLDFAST_STORE__REDIS__SHARDS: '256',
  });

test('reports the shards each master holds, as Redis hashes their tags', async () => {
  const keys = new KeyLayout(prefix, 256);
  const slots = shardSlots(keys);
  // The CRC16 here and Redis's agree on every shard tag.
  for (let shard = 0; shard < 256; shard += 1) {
    expect(
      Number(await cluster.nodes[0].command(['CLUSTER', 'KEYSLOT', keys.session(shard, 'x')])),
    ).toBe(slots[shard]);
  }
  const r = await cli(['store', 'balance', '--json'], await env());
  expect(r.err).toEqual([]);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.out[0]) as Report;
  expect(report.shards).toBe(256);
  expect(report.masters).toHaveLength(4);
  const view = await cluster.masters();
  for (const m of report.masters) {
    const owner = view.find((v) => v.id === m.id);
    const expected = slots.filter((s) => owner?.slots.some(([a, b]) => s >= a && s <= b)).length;
    expect(m.shards).toBe(expected);
  }
  expect(report.masters.reduce((s, m) => s + m.shards, 0)).toBe(256);
  // The text form names the busiest master and its share.
  const text = await cli(['store', 'balance'], await env());
  expect(text.out[0]).toMatch(/^MASTER +ID +SLOTS +SHARDS$/);
  expect(text.out.at(-1)).toMatch(
    /^256 shards over 4 masters: mean 64\.0, busiest 127\.0\.0\.1:\d+ with \d+ \(\d\.\d\d× the mean/,
  );
});

test('plans and applies the moves under load: no failed request, then every master within one shard', async () => {
  // Make the cluster uneven first: 16 shard slots of the last master go to the first (>1.2×).
  const e0 = await env();
  const client = new RedisEngine(
    redisSettings({ mode: 'cluster', nodes: cluster.seeds, keyPrefix: prefix, shards: 256 }),
  );
  engine = client;
  await client.start();
  const masters = await readMasters(client.connection.writes);
  const slots = shardSlots(client.keys);
  const [first, , , last] = masters;
  const toMove = [...new Set(slots)]
    .filter((s) => last.ranges.some(([a, b]) => s >= a && s <= b))
    .slice(0, 16);
  await applyMoves(
    client.settings,
    masters,
    toMove.map((slot) => ({
      slot,
      shards: slots.filter((x) => x === slot).length,
      from: last.id,
      to: first.id,
    })),
    () => undefined,
  );
  const uneven = JSON.parse((await cli(['store', 'balance', '--json'], e0)).out[0]) as Report;
  expect(uneven.balanced).toBe(false);
  expect(uneven.ratio).toBeGreaterThan(1.2);
  // Preflight and the health loop's figures see the same.
  const pre = await cli(['preflight'], e0);
  expect(lineOf(pre.out, 'store.balance')).toMatch(
    new RegExp(
      `^WARN store\\.balance +found 127\\.0\\.0\\.1:${first.port} holds \\d+ shards, ${uneven.ratio.toFixed(2)}× the mean 64\\.0`,
    ),
  );
  const topology = new RedisTopology(() => client.connection.reads, client.keys);
  expect((await topology.details()).shardRatio).toBeCloseTo(uneven.ratio, 6);

  const plan = await cli(['store', 'balance', '--plan', '--json'], e0);
  expect(plan.code).toBe(0);
  const planned = JSON.parse(plan.out[0]) as Report & {
    moves: Array<{ slot: number; shards: number }>;
    planBalanced: boolean;
  };
  expect(planned.planBalanced).toBe(true);
  expect(planned.moves.length).toBeGreaterThanOrEqual(10);
  // --plan changes nothing.
  expect(JSON.parse((await cli(['store', 'balance', '--json'], e0)).out[0])).toEqual(uneven);

  // Signed-in users on the shards that move, and elsewhere.
  const moving = new Set(planned.moves.map((m) => m.slot));
  const people: Array<{ userId: string; shard: number; ids: string[] }> = [];
  for (let i = 0; people.length < 120; i++) {
    const userId = newUserId();
    const shard = client.keys.shardOf(userId);
    if (i % 2 === 0 && !moving.has(slots[shard])) continue;
    const s = session(userId, Date.now());
    expect(await client.create(shard, stored(s), 10_000)).toEqual([]);
    people.push({ userId, shard, ids: [s.id] });
  }
  const before = Object.values(storeUnavailable.counts).reduce((a, b) => a + b, 0);
  const failures: string[] = [];
  let rounds = 0;
  let stop = false;
  const loop = async (i: number) => {
    for (let n = 0; !stop; n++) {
      const p = people[(i * 17 + n) % people.length];
      const now = Date.now();
      try {
        if (!(await client.get(p.shard, p.ids[0], now))) throw new Error(`lost ${p.ids[0]}`);
        if (n % 3 === 0 && !(await client.touch(p.shard, p.ids[0], now, now + 30 * MINUTE, now)))
          throw new Error(`touch lost ${p.ids[0]}`);
        if (n % 5 === 0) {
          const s = session(p.userId, now);
          expect(await client.create(p.shard, stored(s), 10_000)).toEqual([]);
          p.ids.push(s.id);
        }
        rounds++;
      } catch (err) {
        if (failures.length < 10) failures.push((err as Error).message);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const loops = Array.from({ length: 10 }, (_, i) => loop(i));
  const started = Date.now();
  const applied = await cli(['store', 'balance', '--apply', '--json'], e0);
  const ms = Date.now() - started;
  stop = true;
  await Promise.all(loops);
  expect(applied.code).toBe(0);
  // One JSON progress line per move on stderr, in order, with the keys moved.
  const progress = applied.err.map(
    (l) => JSON.parse(l) as { slot: number; keys: number; done: number; total: number },
  );
  expect(progress.map((p) => p.slot)).toEqual(planned.moves.map((m) => m.slot));
  expect(progress.at(-1)).toMatchObject({
    done: planned.moves.length,
    total: planned.moves.length,
  });
  expect(progress.reduce((s, p) => s + p.keys, 0)).toBeGreaterThan(0);
  console.log(
    `apply: ${planned.moves.length} slots, ${progress.reduce((s, p) => s + p.keys, 0)} keys in ${ms} ms; ${rounds} request rounds, ${failures.length} failures`,
    failures.slice(0, 3),
  );
  expect(failures).toEqual([]);
  expect(rounds).toBeGreaterThan(50);
  const done = JSON.parse(applied.out[0]) as Report & { moved: number };
  expect(done.moved).toBe(planned.moves.length);
  expect(done.balanced).toBe(true);

  // Reported afresh: every master within one shard; every session still there.
  const after = JSON.parse((await cli(['store', 'balance', '--json'], e0)).out[0]) as Report;
  const counts = after.masters.map((m) => m.shards);
  expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  for (const p of people)
    for (const id of p.ids) expect(await client.get(p.shard, id, Date.now())).not.toBeNull();
  expect((await cli(['store', 'balance', '--plan'], e0)).out.at(-1)).toBe('no slot to move');
  expect(lineOf((await cli(['preflight'], e0)).out, 'store.balance')).toMatch(
    /^PASS store\.balance /,
  );
  expect((await topology.details()).shardRatio).toBeLessThanOrEqual(65 / 64);
  expect(Object.values(storeUnavailable.counts).reduce((a, b) => a + b, 0) - before).toBe(0);
});
