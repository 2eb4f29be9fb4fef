/**
 * The race of a master's read against its replicas' (readWithFallback) and the replica map read
 * from CLUSTER NODES. The Redis side is in test/integration/store/replica-reads.test.ts.
 */
import {
  parseClusterNodes,
  parseSlotOwners,
  readWithFallback,
  ReadTimeoutError,
  replicaReadsEnabled,
  withTimeout,
} from '../../../../src/store/redis/replica-reads';
import { redisSettings } from '../../../support/store-fixtures';

const after = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
const failAfter = (ms: number, message: string) =>
  new Promise<never>((_, reject) => setTimeout(() => reject(new Error(message)), ms));
const never = () => new Promise<never>(() => {});

/** readWithFallback with the replica's calls recorded; times in ms. */
async function race(
  primary: Promise<string | null>,
  replica: () => Promise<string | null>,
  hedgeAfter = 40,
  timeout = 200,
) {
  const asked: number[] = [];
  const started = Date.now();
  const outcome = await readWithFallback<string | null>({
    primary,
    replica: (ms) => {
      asked.push(ms);
      return replica();
    },
    empty: (v) => v === null,
    covers: (err) => !(err instanceof TypeError),
    hedgeAfter,
    timeout,
  }).then(
    (r) => r,
    (err: Error) => ({ error: err }),
  );
  return { outcome, asked, took: Date.now() - started };
}

describe('readWithFallback', () => {
  it('a master that answers in time is the answer, and the replicas are not asked', async () => {
    const r = await race(after(5, 'm'), () => after(1, 'r'));
    expect(r.outcome).toEqual({ value: 'm', from: 'master' });
    expect(r.asked).toEqual([]);
  });

  it('a master that fails: the replicas are asked at once, with what is left of the deadline', async () => {
    // Hedge at 200 ms of 1 s: asked with more than 850 ms left means asked long before the hedge.
    const r = await race(failAfter(5, 'closed'), () => after(1, 'r'), 200, 1000);
    expect(r.outcome).toEqual({ value: 'r', from: 'replica' });
    expect(r.asked).toHaveLength(1);
    expect(r.asked[0]).toBeGreaterThan(850);
    expect(r.asked[0]).toBeLessThanOrEqual(1000);
    expect(r.took).toBeLessThan(150);
  });

  it('a slow master: the replicas are asked after hedgeAfter, and the first answer wins', async () => {
    const r = await race(never(), () => after(1, 'r'));
    expect(r.outcome).toEqual({ value: 'r', from: 'replica' });
    expect(r.took).toBeGreaterThanOrEqual(39);
    expect(r.took).toBeLessThan(190);
    expect(r.asked[0]).toBeLessThanOrEqual(161);
    // The master answering after the replicas were asked, before them, still wins.
    const late = await race(after(50, 'm'), () => after(100, 'r'));
    expect(late.outcome).toEqual({ value: 'm', from: 'master' });
    expect(late.asked).toHaveLength(1);
  });

  it("a replica's 'none' waits for a master that may still answer, and is taken once it failed", async () => {
    const waited = await race(after(80, 'm'), () => after(1, null));
    expect(waited.outcome).toEqual({ value: 'm', from: 'master' });
    const failed = await race(failAfter(80, 'closed'), () => after(1, null));
    expect(failed.outcome).toEqual({ value: null, from: 'replica' });
    expect(failed.took).toBeGreaterThanOrEqual(79);
    // A master that never answers: "none" at the deadline, not before.
    const frozen = await race(never(), () => after(1, null));
    expect(frozen.outcome).toEqual({ value: null, from: 'replica' });
    expect(frozen.took).toBeGreaterThanOrEqual(199);
  });

  it("nothing answers: the master's error, or a timeout at the deadline, never later", async () => {
    const both = await race(failAfter(5, 'closed'), () => failAfter(1, 'CLUSTERDOWN'));
    expect((both.outcome as { error: Error }).error.message).toBe('closed');
    expect(both.took).toBeLessThan(150);
    const frozen = await race(never(), never);
    expect((frozen.outcome as { error: Error }).error).toBeInstanceOf(ReadTimeoutError);
    expect((frozen.outcome as { error: Error }).error.message).toBe(
      'read timed out after 200 ms (store.redis.commandTimeout)',
    );
    expect(frozen.took).toBeGreaterThanOrEqual(199);
    expect(frozen.took).toBeLessThan(400);
    // The replicas fail while the master is slow: the master still gets its time.
    const slow = await race(after(100, 'm'), () => failAfter(1, 'CLUSTERDOWN'));
    expect(slow.outcome).toEqual({ value: 'm', from: 'master' });
  });
});

test("a bug in the master's read is thrown at once: no replica covers it", async () => {
  const bug = new TypeError('a bug');
  const r = await race(
    new Promise<never>((_, reject) => setTimeout(() => reject(bug), 5)),
    () => after(1, 'r'),
    200,
    1000,
  );
  expect(r.outcome).toEqual({ error: bug });
  expect(r.asked).toEqual([]);
  expect(r.took).toBeLessThan(150);
});

describe('withTimeout', () => {
  it('passes an answer through, and rejects with ReadTimeoutError after the time', async () => {
    await expect(withTimeout(after(1, 'v'), 100)).resolves.toBe('v');
    await expect(withTimeout(failAfter(1, 'x'), 100)).rejects.toThrow('x');
    const started = Date.now();
    await expect(withTimeout(never(), 50)).rejects.toBeInstanceOf(ReadTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(49);
  });
});

describe('replicaReadsEnabled', () => {
  it('only on a cluster whose writes wait for at least one replica', () => {
    const on = (mode: 'cluster' | 'sentinel' | 'standalone', replicas: number) =>
      replicaReadsEnabled(redisSettings({ mode, durability: { replicas, timeout: 100 } }));
    expect([on('cluster', 1), on('cluster', 2), on('cluster', 0)]).toEqual([true, true, false]);
    expect([on('sentinel', 1), on('standalone', 1)]).toEqual([false, false]);
  });
});

describe('parseClusterNodes', () => {
  const NODES = [
    'a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460',
    'a2 127.0.0.1:7002@17002,redis-2 master - 0 0 2 connected 5461-10922',
    'a3 127.0.0.1:7003@17003 master,fail - 0 0 3 disconnected 10923-16383',
    'b1 127.0.0.1:7101@17101 slave a1 0 0 1 connected',
    'b2 127.0.0.1:7102@17102 slave a2 0 0 2 connected',
    'b3 127.0.0.1:7103@17103 slave a3 0 0 3 connected',
    'c1 127.0.0.1:7201@17201 slave,fail a1 0 0 1 disconnected',
    'c2 :0@0 slave,noaddr a2 0 0 2 disconnected',
    'c3 127.0.0.1:7203@17203 slave zz 0 0 3 connected',
    '',
  ].join('\n');

  it("maps each master's address to its replicas: a failed master keeps them, failed replicas go", () => {
    expect(Object.fromEntries(parseClusterNodes(NODES))).toEqual({
      '127.0.0.1:7001': ['127.0.0.1:7101'],
      '127.0.0.1:7002': ['127.0.0.1:7102'],
      '127.0.0.1:7003': ['127.0.0.1:7103'],
    });
  });

  it('maps every address through natMap', () => {
    const mapped = parseClusterNodes(NODES, (a) => a.replace('127.0.0.1', '10.0.0.1'));
    expect(mapped.get('10.0.0.1:7003')).toEqual(['10.0.0.1:7103']);
  });

  it('gives each slot to the master serving it: a failed master serves nothing, migrations skipped', () => {
    const owners = parseSlotOwners(NODES);
    expect([owners[0], owners[5460], owners[5461], owners[10922]]).toEqual([
      '127.0.0.1:7001',
      '127.0.0.1:7001',
      '127.0.0.1:7002',
      '127.0.0.1:7002',
    ]);
    expect(owners[10923]).toBeUndefined();
    // After the failover: the promoted replica serves the failed master's slots.
    const promoted = parseSlotOwners(
      [
        'a3 127.0.0.1:7003@17003 master,fail - 0 0 3 disconnected',
        'b3 127.0.0.1:7103@17103 master - 0 0 4 connected 10923-16383 9000 [42->-a1]',
      ].join('\n'),
      (a) => a.replace('127.0.0.1', '10.0.0.1'),
    );
    expect([promoted[10923], promoted[16383], promoted[9000]]).toEqual([
      '10.0.0.1:7103',
      '10.0.0.1:7103',
      '10.0.0.1:7103',
    ]);
    expect(promoted[42]).toBeUndefined();
    expect(promoted[10922]).toBeUndefined();
  });
});
