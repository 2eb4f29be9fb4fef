import { mannWhitney, median, normalCdf } from '../../support/statistics';

/** A fixed pseudo-random sequence (mulberry32): the test is the same on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('normalCdf matches known values', () => {
  expect(normalCdf(0)).toBeCloseTo(0.5, 6);
  expect(normalCdf(1.959964)).toBeCloseTo(0.975, 5);
  expect(normalCdf(-3.290527)).toBeCloseTo(0.0005, 5);
});

test('Mann-Whitney: the textbook example, same samples, and a shift of a fifth of the spread', () => {
  // U for a = [1,2,3], b = [4,5,6] is 0: every a below every b.
  expect(mannWhitney([1, 2, 3], [4, 5, 6]).u).toBe(0);
  const r = rng(42);
  const a = Array.from({ length: 400 }, () => r());
  const b = Array.from({ length: 400 }, () => r());
  expect(mannWhitney(a, b).p).toBeGreaterThan(0.01);
  expect(mannWhitney(a, a).p).toBeCloseTo(1, 6);
  const shifted = b.map((x) => x + 0.2 * 0.29);
  expect(mannWhitney(a, shifted).p).toBeLessThan(0.001);
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 2, 3])).toBe(2.5);
});
