import { BusyError, HashQueue, PasswordHasher } from '../../../src/users';
import { deadlines } from '../../../src/store/deadline';

/** A job that runs until the test lets it finish. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { open, done, job: () => done };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('at most `concurrency` jobs run; hashes leave the last slot to verifications', async () => {
  const q = new HashQueue(3, 10);
  let running = 0;
  let peak = 0;
  const counted = (done: Promise<void>) => async () => {
    running++;
    peak = Math.max(peak, running);
    await done;
    running--;
  };
  const gates = Array.from({ length: 7 }, gate);
  const hashes = gates.slice(0, 5).map((g) => q.run('hash', counted(g.done)));
  await tick();
  expect(running).toBe(2);
  expect(q.queued('hash')).toBe(3);
  // A login finds the slot hashes may not take; the next one waits.
  const verifies = gates.slice(5).map((g) => q.run('verify', counted(g.done)));
  await tick();
  expect(running).toBe(3);
  expect(q.queued('verify')).toBe(1);
  for (const g of gates) g.open();
  await Promise.all([...hashes, ...verifies]);
  expect(peak).toBe(3);
  expect(q.stats.started).toEqual({ hash: 5, verify: 2 });
});

test('with one slot, hashes may use it', async () => {
  const q = new HashQueue(1, 10);
  expect(await q.run('hash', async () => 'ran')).toBe('ran');
});

test('a free slot goes to a waiting verification before any waiting hash (logins first)', async () => {
  const q = new HashQueue(1, 10);
  const order: string[] = [];
  const first = gate();
  const busy = q.run('hash', first.job);
  const jobs = [
    q.run('hash', async () => void order.push('hash 1')),
    q.run('hash', async () => void order.push('hash 2')),
    q.run('verify', async () => void order.push('verify 1')),
    q.run('hash', async () => void order.push('hash 3')),
    q.run('verify', async () => void order.push('verify 2')),
  ];
  await tick();
  first.open();
  await Promise.all([busy, ...jobs]);
  expect(order).toEqual(['verify 1', 'verify 2', 'hash 1', 'hash 2', 'hash 3']);
});

test('a full lane refuses at once with BusyError (HF_BUSY, Retry-After); the other lane still queues', async () => {
  const q = new HashQueue(1, 2);
  const held = gate();
  const running = q.run('hash', held.job);
  const waiting = [q.run('hash', async () => 1), q.run('hash', async () => 2)];
  await expect(q.run('hash', async () => 3)).rejects.toBeInstanceOf(BusyError);
  const err = await q.run('hash', async () => 3).catch((e: BusyError) => e);
  expect(err).toBeInstanceOf(BusyError);
  expect((err as BusyError).code).toBe('HF_BUSY');
  expect((err as BusyError).retryAfterMs).toBeGreaterThanOrEqual(1000);
  expect(() => q.admit('hash')).toThrow(BusyError);
  expect(() => q.admit('verify')).not.toThrow();
  const login = q.run('verify', async () => 'login');
  expect(q.stats.refused).toEqual({ verify: 0, hash: 3 });
  held.open();
  expect(await login).toBe('login');
  expect(await Promise.all([running, ...waiting])).toEqual([undefined, 1, 2]);
  // Drained: room again.
  expect(await q.run('hash', async () => 4)).toBe(4);
});

test('a failing job frees its slot', async () => {
  const q = new HashQueue(1, 1);
  await expect(
    q.run('hash', async () => {
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  expect(await q.run('verify', async () => 'next')).toBe('next');
});

test('the password hasher hashes in the hash lane and verifies in the verify lane', async () => {
  const q = new HashQueue(2, 4);
  const h = new PasswordHasher(1024, q);
  const hash = await h.hash('correct horse');
  expect((await h.verify('correct horse', hash)).ok).toBe(true);
  await h.verifyDummy('whatever');
  expect(q.stats.started).toEqual({ hash: 1, verify: 2 });
});

test("time in the queue and in the hash is not the request's store time (ADR 245)", async () => {
  const q = new HashQueue(1, 4);
  const first = gate();
  await deadlines.run(100, async () => {
    const running = q.run('verify', first.job);
    // The second waits its turn behind the first, then hashes: 150 ms in all, past the budget.
    const waiting = q.run('verify', () => new Promise((resolve) => setTimeout(resolve, 50)));
    setTimeout(first.open, 100);
    await Promise.all([running, waiting]);
    expect(() => deadlines.check()).not.toThrow();
    expect(deadlines.remaining()).toBeGreaterThan(50);
  });
});
