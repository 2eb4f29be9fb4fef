import { loadSettings } from '../../../src/config';
import {
  addressGroup,
  isAcceptableEmail,
  LoginThrottle,
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

test('address groups: IPv4 itself, IPv6 its /64, IPv4-mapped as IPv4', () => {
  expect(addressGroup('203.0.113.7')).toBe('203.0.113.7');
  expect(addressGroup('::ffff:203.0.113.7')).toBe('203.0.113.7');
  expect(addressGroup('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
  expect(addressGroup('2001:DB8:1:2::1')).toBe('2001:db8:1:2::/64');
  expect(addressGroup('::1')).toBe('0:0:0:0::/64');
});

describe('address throttling groups IPv6 by /64', () => {
  const s = loadSettings({
    env: { NODE_ENV: 'test' },
    overrides: { throttle: { accountFailures: 1000, addressFailures: 3, registrations: 2 } },
  }).throttle;

  test('two addresses in one /64 share a login-failure counter; another /64 does not', async () => {
    const t = new LoginThrottle(new MemoryThrottleStore(), s, () => 1_000);
    const [a, b] = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:fffe'];
    expect((await t.begin('one@x.io', a)).allowed).toBe(true);
    expect((await t.begin('two@x.io', b)).allowed).toBe(true);
    expect((await t.begin('three@x.io', a)).allowed).toBe(true);
    const d = await t.begin('four@x.io', b);
    expect(d).toMatchObject({ allowed: false, scope: 'address' });
    expect((await t.begin('four@x.io', '2001:db8:1:3::1')).allowed).toBe(true);
    // IPv4 and its IPv4-mapped form are one client too.
    for (const ip of ['198.51.100.1', '::ffff:198.51.100.1', '198.51.100.1'])
      expect((await t.begin(`${ip}@x.io`, ip)).allowed).toBe(true);
    expect((await t.begin('last@x.io', '::ffff:198.51.100.1')).allowed).toBe(false);
  });

  test('registrations are counted per /64: over the limit, wait out the window', async () => {
    const clock = { now: 1_000 };
    const t = new LoginThrottle(new MemoryThrottleStore(), s, () => clock.now);
    expect(await t.beginRegistration('2001:db8:9:9::1')).toBe(0);
    expect(await t.beginRegistration('2001:db8:9:9::2')).toBe(0);
    expect(await t.beginRegistration('2001:db8:9:9::3')).toBe(s.window);
    expect(await t.beginRegistration('2001:db8:9:10::1')).toBe(0);
    clock.now += s.window - 1;
    expect(await t.beginRegistration('2001:db8:9:9::4')).toBe(1);
    clock.now += 1;
    expect(await t.beginRegistration('2001:db8:9:9::4')).toBe(0);
  });
});
