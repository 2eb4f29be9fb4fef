import { shardUnder } from '../../../../src/store/keys';
import { parseSplit, validGrowth } from '../../../../src/store/redis/split-state';

describe('split state (ADR 260)', () => {
  it('grows only to a larger multiple', () => {
    expect(validGrowth(256, 1024)).toBe(true);
    expect(validGrowth(256, 768)).toBe(true);
    expect(validGrowth(256, 256)).toBe(false);
    expect(validGrowth(256, 128)).toBe(false);
    expect(validGrowth(256, 1000)).toBe(false);
    expect(validGrowth(256, 512.5)).toBe(false);
  });

  it('reads a running split, a finished one (either configured count) and none', () => {
    const running = JSON.stringify({ from: 256, to: 1024, cursor: 17 });
    expect(parseSplit('256', running, null, 256)).toEqual({
      from: 256,
      to: 1024,
      cursor: 17,
      done: false,
    });
    const done = { from: 256, to: 1024, cursor: 256, done: true };
    // Nodes still configured with the old count, and nodes configured with the new one.
    expect(parseSplit('1024', null, '256', 256)).toEqual(done);
    expect(parseSplit('1024', null, '256', 1024)).toEqual(done);
    expect(parseSplit('1024', null, null, 256)).toEqual(done);
    expect(parseSplit('256', null, null, 256)).toBeNull();
    expect(parseSplit(null, null, null, 256)).toBeNull();
    // A recorded count that is no multiple of the configured one is no split (preflight says so).
    expect(parseSplit('300', null, null, 256)).toBeNull();
  });

  it('splits old shard s into s, s+S, … (h mod kS mod S = h mod S)', () => {
    for (let i = 0; i < 500; i++) {
      const u = `user-${i}`;
      const old = shardUnder(u, 256);
      const now = shardUnder(u, 1024);
      expect(now % 256).toBe(old);
      expect([old, old + 256, old + 512, old + 768]).toContain(now);
    }
  });
});
