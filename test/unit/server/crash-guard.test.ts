import { CrashGuard } from '../../../src/server/crash-guard';

const opts = { maxDeaths: 5, windowMs: 30_000, baseDelayMs: 200, maxDelayMs: 1_000 };

test('replaces a dying worker after a delay that doubles with each recent death, capped', () => {
  const guard = new CrashGuard(opts);
  const delays = [0, 1, 2, 3].map((i) => guard.onDeath(1000 + i));
  expect(delays).toEqual([
    { action: 'restart', delayMs: 200, recentDeaths: 1 },
    { action: 'restart', delayMs: 400, recentDeaths: 2 },
    { action: 'restart', delayMs: 800, recentDeaths: 3 },
    { action: 'restart', delayMs: 1000, recentDeaths: 4 },
  ]);
});

test('five deaths within the window is a crash loop: stop', () => {
  const guard = new CrashGuard(opts);
  for (let i = 0; i < 4; i++) guard.onDeath(i * 1000);
  expect(guard.onDeath(29_000)).toEqual({ action: 'stop', recentDeaths: 5 });
});

test('deaths older than the window are forgotten, so an occasional crash never stops the node', () => {
  const guard = new CrashGuard(opts);
  for (let i = 0; i < 20; i++) {
    expect(guard.onDeath(i * 10_000).action).toBe('restart');
  }
  // 10 s apart: at most 3 fall within any 30 s window, and the delay stays low.
  expect(guard.onDeath(200_000)).toEqual({ action: 'restart', delayMs: 800, recentDeaths: 3 });
});
