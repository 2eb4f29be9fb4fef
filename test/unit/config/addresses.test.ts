import { ipv6Groups, normalizeIp, parseCidr } from '../../../src/config';

test('addresses are canonical: IPv6 compressed and lower case, IPv4-mapped as IPv4, zones dropped', () => {
  expect(normalizeIp('203.0.113.7')).toBe('203.0.113.7');
  expect(normalizeIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
  expect(normalizeIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
  expect(normalizeIp('::FFFF:a01:203')).toBe('10.1.2.3');
  expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1');
  for (const bad of ['', 'localhost', '1.2.3', '01.2.3.4', '1.2.3.4:80', '[::1]', '::g'])
    expect(normalizeIp(bad)).toBeUndefined();
  expect(ipv6Groups('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
  expect(ipv6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
});

test('CIDR blocks: IPv4, IPv6, a bare host, IPv4-mapped; anything else is refused', () => {
  expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  expect(parseCidr('fd00::/8')).toEqual({ address: 'fd00::', prefix: 8, family: 'ipv6' });
  expect(parseCidr('::1')).toEqual({ address: '::1', prefix: 128, family: 'ipv6' });
  expect(parseCidr('192.168.1.10')).toEqual({
    address: '192.168.1.10',
    prefix: 32,
    family: 'ipv4',
  });
  expect(parseCidr('::ffff:10.0.0.0/104')).toEqual({
    address: '10.0.0.0',
    prefix: 8,
    family: 'ipv4',
  });
  for (const bad of [
    '10.0.0.0/33',
    'fd00::/129',
    '10.0.0.0/',
    '10.0.0.0/8/8',
    '10.0.0.0/-1',
    'ten/8',
    '::ffff:10.0.0.0/64',
    'fe80::1%eth0/64',
    '',
  ])
    expect(parseCidr(bad)).toBeUndefined();
});

test('the deprecated IPv4-compatible form (::a.b.c.d) stays the IPv6 address it is; short IPv4 forms are refused', () => {
  // ipaddr.js alone would read ::a.b.c.d as ::ffff:a.b.c.d, another address.
  expect(normalizeIp('::10.1.2.3')).toBe('::a01:203');
  expect(normalizeIp('::0.0.0.0')).toBe('::');
  expect(normalizeIp('1::10.1.2.3')).toBe('1::a01:203');
  expect(normalizeIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
  for (const bad of ['127.1', '0x7f.0.0.1', '10.1', '4294967295'])
    expect(normalizeIp(bad)).toBeUndefined();
  expect(ipv6Groups(normalizeIp('2001:db8:0:1:0:0:0:1') as string)).toEqual([
    0x2001, 0xdb8, 0, 1, 0, 0, 0, 1,
  ]);
});
