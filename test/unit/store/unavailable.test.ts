import { ReplyError } from 'ioredis';
import { createLogger } from '../../../src/log/logger';
import { StoreFullError, StoreUnavailableError } from '../../../src/errors';
import { redirectOf } from '../../../src/store/redis/commands';
import { storeError } from '../../../src/store/redis/store-errors';
import {
  causeOf,
  LOG_INTERVAL_MS,
  slotOf,
  UnavailableLog,
  type UnavailableReport,
} from '../../../src/store/redis/unavailable';
import { keySlot } from '../../harness/slots';

const reply = (message: string): Error => new ReplyError(message);

describe('causeOf', () => {
  it.each([
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'tryagain'],
    ['MOVED 3999 127.0.0.1:7002', 'moved'],
    ['ASK 3999 127.0.0.1:7002', 'ask'],
    ['CLUSTERDOWN The cluster is down', 'clusterdown'],
    ['LOADING Redis is loading the dataset in memory', 'loading'],
    ["READONLY You can't write against a read only replica.", 'readonly'],
    [
      'UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)',
      'readonly',
    ],
    ['NOAUTH Authentication required.', 'auth'],
    ['WEIRD something', 'other'],
  ])('names a reply %s as %s', (message, cause) => {
    expect(causeOf(reply(message))).toBe(cause);
  });

  it.each([
    ['Command timed out', 'timeout'],
    ['Connection is closed.', 'connection'],
    ["Stream isn't writeable and enableOfflineQueue options is false", 'connection'],
    ['connect ECONNREFUSED 127.0.0.1:7000', 'connection'],
    ['Too many Cluster redirections. Last error: ReplyError: TRYAGAIN x', 'tryagain'],
    ['Too many Cluster redirections. Last error: Error: Connection is closed.', 'connection'],
    ['Too many Cluster redirections. Last error: Error: strange', 'redirections'],
    ['something else', 'other'],
  ])('names an ioredis error %s as %s', (message, cause) => {
    expect(causeOf(new Error(message))).toBe(cause);
  });
});

it('answers a WAIT cut short by a failover (UNBLOCKED) as unavailable, not as a bug', () => {
  const err = storeError(
    'users.create',
    reply('UNBLOCKED force unblock from blocking operation, instance state changed'),
  );
  expect(err).toBeInstanceOf(StoreUnavailableError);
  expect(err).not.toBeInstanceOf(StoreFullError);
});

describe('redirectOf', () => {
  it('reads redirects from replies and from ioredis giving up', () => {
    expect(redirectOf(reply('ASK 12 127.0.0.1:7001'))).toEqual({
      code: 'ASK',
      address: '127.0.0.1:7001',
    });
    expect(redirectOf(reply('TRYAGAIN Multiple keys'))).toEqual({ code: 'TRYAGAIN' });
    expect(
      redirectOf(new Error('Too many Cluster redirections. Last error: ReplyError: MOVED 5 h:1')),
    ).toEqual({ code: 'MOVED', address: 'h:1' });
    expect(redirectOf(reply('CLUSTERDOWN The cluster is down'))).toBeUndefined();
    // A slot with no owner in the asked node's view (mid-migration): a new slot map, then again.
    expect(redirectOf(reply('CLUSTERDOWN Hash slot not served'))).toEqual({ code: 'MOVED' });
    expect(
      redirectOf(
        new Error(
          'Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN Hash slot not served',
        ),
      ),
    ).toEqual({ code: 'MOVED' });
    expect(redirectOf(new Error('MOVED 5 h:1'))).toBeUndefined(); // not a reply
  });
});

it('slotOf agrees with the CRC16 of the harness (hash tags included)', () => {
  for (const key of ['{hf:7}:s:abc', 'plain', '{}x', '{hf:u:1}', 'a{b}c{d}']) {
    expect(slotOf(key)).toBe(keySlot(key));
  }
});

describe('UnavailableLog', () => {
  const report = (cause: UnavailableReport['cause']): UnavailableReport => ({
    cause,
    errorClass: 'ReplyError',
    operation: 'create',
    node: '127.0.0.1:7000',
    slot: 42,
  });

  it('counts every 503 and logs one warn line per cause per interval, with the suppressed count', () => {
    let now = 1_000_000;
    const lines: Array<Record<string, unknown>> = [];
    const log = new UnavailableLog(() => now);
    log.useLogger(createLogger('info', { write: (l: string) => void lines.push(JSON.parse(l)) }));
    log.record(report('tryagain'));
    log.record(report('tryagain'));
    log.record(report('tryagain'));
    log.record(report('timeout'));
    expect(log.counts.tryagain).toBe(3);
    expect(log.counts.timeout).toBe(1);
    expect(lines.map((l) => [l.level, l.cause, l.suppressed])).toEqual([
      [40, 'tryagain', 0],
      [40, 'timeout', 0],
    ]);
    expect(lines[0]).toMatchObject({ node: '127.0.0.1:7000', slot: 42, operation: 'create' });
    expect(lines[0].msg).toBe(
      'session store unavailable (503): tryagain during create on 127.0.0.1:7000 slot 42',
    );
    now += LOG_INTERVAL_MS - 1;
    log.record(report('tryagain'));
    expect(lines).toHaveLength(2);
    now += 1;
    log.record(report('tryagain'));
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ cause: 'tryagain', suppressed: 3 });
    expect(lines[2].msg).toContain('(3 more since the last line)');
    expect(log.counts.tryagain).toBe(5);
  });
});
