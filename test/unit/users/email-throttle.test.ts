import {
  isAcceptableEmail,
  MemoryThrottleStore,
  normalizeEmail,
  waitLeft,
} from '../../../src/users';

test('emails are trimmed, NFC-normalised and lower-cased', () => {
  expect(normalizeEmail('  Ana@Example.COM ')).toBe('ana@example.com');
  expect(normalizeEmail('Jose\u0301@x.io')).toBe('jos\u00e9@x.io');
  expect(isAcceptableEmail('a@b.co')).toBe(true);
  expect(isAcceptableEmail('a@b')).toBe(false);
  expect(isAcceptableEmail('<a>@b.co')).toBe(false);
  expect(isAcceptableEmail(`${'a'.repeat(250)}@b.co`)).toBe(false);
});

test('throttle delay: free up to the limit, then base, doubling, capped at maxDelay', () => {
  const rule = { limit: 5, baseDelay: 1000, maxDelay: 8000, window: 60000 };
  expect(waitLeft(4, 0, rule, 0)).toBe(0);
  expect(waitLeft(5, 0, rule, 0)).toBe(1000);
  expect(waitLeft(6, 0, rule, 0)).toBe(2000);
  expect(waitLeft(9, 0, rule, 0)).toBe(8000);
  expect(waitLeft(500, 0, rule, 0)).toBe(8000);
  expect(waitLeft(5, 0, rule, 1500)).toBe(0);
});

test('memory throttle store: counts, blocks, releases and resets', async () => {
  const s = new MemoryThrottleStore();
  const rule = { limit: 2, baseDelay: 1000, maxDelay: 8000, window: 60000 };
  expect(await s.attempt('k', rule, 0)).toBe(0);
  expect(await s.attempt('k', rule, 0)).toBe(0);
  expect(await s.attempt('k', rule, 10)).toBe(990);
  await s.release('k');
  expect(await s.attempt('k', rule, 10)).toBe(0);
  await s.reset('k');
  expect(await s.attempt('k', rule, 10)).toBe(0);
});
