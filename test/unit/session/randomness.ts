/**
 * Checks that values come from a CSPRNG rather than a counter, a clock or a reused buffer: all
 * distinct, every bit position about half ones, and consecutive draws about half their bits apart.
 * The bounds sit 7 standard deviations or more from the mean, so a real CSPRNG fails them with
 * odds below one in 10^9, while a counter (high bits all zero, neighbours one or two bits apart)
 * fails every one.
 */
export function expectRandom(values: readonly Buffer[], bits: number): void {
  const n = values.length;
  expect(n).toBeGreaterThanOrEqual(16);
  for (const v of values) expect(v.length * 8).toBe(bits);
  expect(new Set(values.map((v) => v.toString('hex'))).size).toBe(n);

  // Consecutive draws: Binomial(bits, 1/2) differing bits, mean bits/2, sd sqrt(bits)/2.
  const sd = Math.sqrt(bits) / 2;
  for (let i = 1; i < n; i++) {
    const d = hamming(values[i - 1], values[i]);
    expect(d).toBeGreaterThan(bits / 2 - 7 * sd);
    expect(d).toBeLessThan(bits / 2 + 7 * sd);
  }

  // Bit balance per position (needs enough draws to mean something).
  if (n >= 200) {
    const ones = new Array<number>(bits).fill(0);
    for (const v of values) for (let b = 0; b < bits; b++) ones[b] += bitAt(v, b);
    const spread = 7 * (Math.sqrt(n) / 2);
    for (let b = 0; b < bits; b++) {
      expect(Math.abs(ones[b] - n / 2)).toBeLessThan(spread);
    }
  }
}

function bitAt(v: Buffer, b: number): number {
  return (v[b >> 3] >> (7 - (b & 7))) & 1;
}

function hamming(a: Buffer, b: Buffer): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i] ^ b[i];
    while (x) {
      d += x & 1;
      x >>= 1;
    }
  }
  return d;
}
