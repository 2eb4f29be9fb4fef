import { clientAddress, TrustedProxies } from '../../../src/auth';

const none = new TrustedProxies([]);
const lb = new TrustedProxies(['10.0.0.0/8', '192.168.0.0/16', 'fd00::/8']);

describe('client address behind proxies (http.trustedProxies)', () => {
  test('no trusted proxies (the default): X-Forwarded-For is never read', () => {
    expect(clientAddress('203.0.113.9', '198.51.100.1', none)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', '198.51.100.1', none)).toBe('10.0.0.5');
  });

  test('a spoofed X-Forwarded-For from an untrusted peer is ignored entirely', () => {
    // A client talking to the node directly writes whatever it likes, even a trusted address.
    expect(clientAddress('203.0.113.9', '198.51.100.1', lb)).toBe('203.0.113.9');
    expect(clientAddress('203.0.113.9', '10.0.0.1', lb)).toBe('203.0.113.9');
    expect(clientAddress('203.0.113.9', '1.1.1.1, 10.0.0.7', lb)).toBe('203.0.113.9');
  });

  test('through one trusted proxy: the hop it appended is the client', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.7', lb)).toBe('203.0.113.7');
    // What the client sent before our proxy appended its peer stays client-controlled.
    expect(clientAddress('10.0.0.5', '6.6.6.6, 203.0.113.7', lb)).toBe('203.0.113.7');
  });

  test('a chain through two trusted proxies: the first untrusted hop from the right', () => {
    // client 203.0.113.7 -> edge LB 192.168.1.1 -> ingress 10.0.0.5 -> node; 1.1.1.1 is spoofed.
    expect(clientAddress('10.0.0.5', '1.1.1.1, 203.0.113.7, 192.168.1.1', lb)).toBe('203.0.113.7');
    // Several headers arrive joined with commas; spaces and ports do not matter.
    expect(clientAddress('10.0.0.5', '1.1.1.1,203.0.113.7:5123 ,  192.168.1.1:80', lb)).toBe(
      '203.0.113.7',
    );
  });

  test('every hop trusted: the farthest one is the client (a probe from inside)', () => {
    expect(clientAddress('10.0.0.5', '10.1.1.1, 192.168.1.1', lb)).toBe('10.1.1.1');
  });

  test('an entry that is not an address stops the walk at the last trusted hop', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.7, unknown', lb)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', 'x, 192.168.1.1', lb)).toBe('192.168.1.1');
    expect(clientAddress('10.0.0.5', `${'9'.repeat(70)}`, lb)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', '', lb)).toBe('10.0.0.5');
  });

  test('IPv6 hops, brackets and IPv4-mapped addresses come back canonical', () => {
    expect(clientAddress('::ffff:10.0.0.5', '203.0.113.7', lb)).toBe('203.0.113.7');
    expect(clientAddress('::ffff:203.0.113.9', undefined, lb)).toBe('203.0.113.9');
    expect(clientAddress('fd00::1', '[2001:DB8::0:1]:443', lb)).toBe('2001:db8::1');
    expect(clientAddress('fd00::1', '2001:db8:0:0:0:0:0:2, fd12::3', lb)).toBe('2001:db8::2');
    expect(clientAddress('10.0.0.5', '::ffff:198.51.100.4', lb)).toBe('198.51.100.4');
  });

  test('trusted CIDRs can be written as IPv4-mapped IPv6 or as one host', () => {
    const t = new TrustedProxies(['::ffff:10.0.0.0/104', '::1', '127.0.0.1']);
    expect(clientAddress('10.2.3.4', '203.0.113.7', t)).toBe('203.0.113.7');
    expect(clientAddress('::1', '203.0.113.7', t)).toBe('203.0.113.7');
    expect(clientAddress('127.0.0.1', '203.0.113.7', t)).toBe('203.0.113.7');
    expect(clientAddress('127.0.0.2', '203.0.113.7', t)).toBe('127.0.0.2');
  });
});
