import { ReplyError } from 'ioredis';
import { StoreUnavailableError } from '../../../src/errors';
import {
  DeadlineError,
  deadlines,
  RequestDeadlines,
  WAIT_TICK_MS,
} from '../../../src/store/deadline';
import { withRedirects } from '../../../src/store/redis/commands';
import { storeError } from '../../../src/store/redis/store-errors';
import { causeOf } from '../../../src/store/redis/unavailable';

const never = <T>(): Promise<T> => new Promise<T>(() => {});

describe('RequestDeadlines', () => {
  it('outside a scope: no deadline, work passes through, WAIT keeps its timeout', async () => {
    const d = new RequestDeadlines();
    expect(d.remaining()).toBe(Infinity);
    expect(() => d.check()).not.toThrow();
    await expect(d.bound(Promise.resolve(7))).resolves.toBe(7);
    expect(d.waitTimeout(100)).toBe(100);
  });

  it('gives up a call that outlasts the deadline with DeadlineError, cause deadline, a 503', async () => {
    const d = new RequestDeadlines();
    const started = Date.now();
    const err = await d.run(150, () => d.bound(never())).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(DeadlineError);
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(400);
    expect(causeOf(err)).toBe('deadline');
    expect(storeError('users.create', err)).toBeInstanceOf(StoreUnavailableError);
  });

  it('pause() stops the clock (a payload being read) until resume(); the time is added once', async () => {
    const d = new RequestDeadlines();
    await (async () => {
      d.enter(Date.now(), 100);
      d.pause();
      d.pause(); // a second pause keeps the first moment
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(() => d.check()).not.toThrow();
      d.resume();
      d.resume(); // nothing paused: nothing added
      const left = d.remaining();
      expect(left).toBeGreaterThan(50);
      expect(left).toBeLessThanOrEqual(100);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(() => d.check()).toThrow(DeadlineError);
    })();
  });

  it('paused work (a password hash) does not count: the store keeps its whole budget after it', async () => {
    const d = new RequestDeadlines();
    await d.run(100, async () => {
      await d.paused(() => new Promise((resolve) => setTimeout(resolve, 160)));
      expect(() => d.check()).not.toThrow();
      expect(d.remaining()).toBeGreaterThan(60);
      await expect(d.bound(new Promise((r) => setTimeout(() => r('ok'), 30)))).resolves.toBe('ok');
      // Unpaused work counts: the same wait spends the budget.
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(() => d.check()).toThrow(DeadlineError);
    });
    // A failing job still gives its time back, and outside a scope it simply runs.
    await d.run(50, async () => {
      const failing = d.paused(
        () => new Promise((_, reject) => setTimeout(() => reject(new Error('x')), 80)),
      );
      await expect(failing).rejects.toThrow('x');
      expect(() => d.check()).not.toThrow();
    });
    await expect(d.paused(() => Promise.resolve(3))).resolves.toBe(3);
  });

  it('a call that answers in time keeps its answer; after the deadline no call starts', async () => {
    const d = new RequestDeadlines();
    await d.run(200, async () => {
      await expect(d.bound(Promise.resolve('ok'))).resolves.toBe('ok');
      expect(d.remaining()).toBeGreaterThan(150);
      await new Promise((r) => setTimeout(r, 220));
      expect(() => d.check()).toThrow(DeadlineError);
    });
  });

  it('fits WAIT inside what is left, minus the timer tick; 0 (no WAIT) when none fits', async () => {
    const d = new RequestDeadlines();
    await d.run(1000, async () => {
      expect(d.waitTimeout(100)).toBe(100);
      expect(d.waitTimeout(5000)).toBeLessThanOrEqual(1000 - WAIT_TICK_MS);
      expect(d.waitTimeout(5000)).toBeGreaterThan(1000 - WAIT_TICK_MS - 50);
    });
    await d.run(WAIT_TICK_MS + 20, async () => {
      expect(d.waitTimeout(100)).toBeGreaterThan(0);
      expect(d.waitTimeout(100)).toBeLessThanOrEqual(20);
    });
    await d.run(50, async () => {
      expect(d.waitTimeout(100)).toBe(0);
    });
  });

  it('follows the request: two flows keep their own deadlines', async () => {
    const d = new RequestDeadlines();
    const [a, b] = await Promise.all([
      d.run(100, async () => {
        await new Promise((r) => setTimeout(r, 10));
        return d.remaining();
      }),
      d.run(5000, async () => {
        await new Promise((r) => setTimeout(r, 10));
        return d.remaining();
      }),
    ]);
    expect(a).toBeLessThanOrEqual(100);
    expect(b).toBeGreaterThan(4000);
  });

  it('detached work (a retry after the answer) carries no deadline, also after it awaits', async () => {
    const d = new RequestDeadlines();
    const seen = await d.run(5, async () => {
      await new Promise((r) => setTimeout(r, 10));
      expect(() => d.check()).toThrow(DeadlineError);
      return d.detached(async () => {
        await new Promise((r) => setTimeout(r, 1));
        d.check();
        return d.remaining();
      });
    });
    expect(seen).toBe(Infinity);
  });
});

describe('withRedirects under a request deadline', () => {
  it('stops retrying TRYAGAIN at the deadline, not after its own 2 s budget', async () => {
    let tries = 0;
    const started = Date.now();
    const err = await deadlines
      .run(300, () =>
        withRedirects(undefined, async () => {
          tries++;
          throw new ReplyError('TRYAGAIN Multiple keys request during rehashing of slot');
        }),
      )
      .catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(causeOf(err)).toBe('tryagain');
    expect(tries).toBeGreaterThan(1);
    expect(elapsed).toBeLessThan(450);
  });

  it('tries a slot no node serves yet again (mid-migration); a cluster that is down answers at once', async () => {
    let tries = 0;
    const served = await withRedirects(undefined, async () => {
      if (++tries < 3) throw new ReplyError('CLUSTERDOWN Hash slot not served');
      return 'written';
    });
    expect({ served, tries }).toEqual({ served: 'written', tries: 3 });
    let downTries = 0;
    const err = await withRedirects(undefined, async () => {
      downTries++;
      throw new ReplyError('CLUSTERDOWN The cluster is down');
    }).catch((e: unknown) => e);
    expect({ cause: causeOf(err), downTries }).toEqual({ cause: 'clusterdown', downTries: 1 });
  });

  it('gives up a command that hangs (a frozen master) at the deadline', async () => {
    const started = Date.now();
    const err = await deadlines
      .run(200, () => withRedirects(undefined, () => never()))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineError);
    expect(Date.now() - started).toBeLessThan(400);
  });
});
