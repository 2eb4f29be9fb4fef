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
  // Collected and compared once: thousands of expect() calls would dominate the test's time.
  const problems: string[] = [];
  values.forEach((v, i) => {
    if (v.length * 8 !== bits) problems.push(`value ${i} has ${v.length * 8} bits`);
  });
  if (new Set(values.map((v) => v.toString('hex'))).size !== n) problems.push('repeated values');

  // Consecutive draws: Binomial(bits, 1/2) differing bits, mean bits/2, sd sqrt(bits)/2.
  const sd = Math.sqrt(bits) / 2;
  for (let i = 1; i < n; i++) {
    const d = hamming(values[i - 1], values[i]);
    if (Math.abs(d - bits / 2) >= 7 * sd)
      problems.push(`draws ${i - 1} and ${i} differ in ${d} bits`);
  }

  // Bit balance per position (needs enough draws to mean something).
  if (n >= 200) {
    const ones = new Array<number>(bits).fill(0);
    for (const v of values) for (let b = 0; b < bits; b++) ones[b] += bitAt(v, b);
    const spread = 7 * (Math.sqrt(n) / 2);
    ones.forEach((c, b) => {
      if (Math.abs(c - n / 2) >= spread) problems.push(`bit ${b} is 1 in ${c} of ${n} draws`);
    });
  }
  expect(problems.slice(0, 10)).toEqual([]);
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
