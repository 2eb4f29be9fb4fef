import { createLogger } from '../../../src/log/logger';
import {
  DURABILITY_LOG_INTERVAL_MS,
  DurabilityLedger,
  type PendingWrite,
} from '../../../src/store/durability';

const pending = (operation: string, retries = 0): PendingWrite => ({
  operation,
  acknowledged: 0,
  required: 1,
  retries,
});

describe('DurabilityLedger (ADR 215)', () => {
  it('counts pending changes per operation and logs one warn line per operation per interval', () => {
    let now = 1_000_000;
    const lines: Array<Record<string, unknown>> = [];
    const ledger = new DurabilityLedger(() => now);
    ledger.useLogger(
      createLogger('info', { write: (l: string) => void lines.push(JSON.parse(l)) }),
    );
    ledger.record(pending('create'));
    ledger.record(pending('create'));
    ledger.record(pending('revoke', 2));
    expect(ledger.pending).toEqual({ create: 2, revoke: 1 });
    expect(ledger.retried).toEqual({ acknowledged: 0, pending: 1 });
    expect(lines.map((l) => [l.level, l.operation, l.suppressed])).toEqual([
      [40, 'create', 0],
      [40, 'revoke', 0],
    ]);
    expect(lines[0].msg).toBe(
      'durability pending: create applied on the master but 0 of 1 replicas acknowledged it ' +
        'within store.redis.durability.timeout; a failover before it replicates would lose it',
    );
    expect(lines[1].msg).toContain('(after 2 more WAITs)');
    now += DURABILITY_LOG_INTERVAL_MS - 1;
    ledger.record(pending('create'));
    expect(lines).toHaveLength(2);
    now += 1;
    ledger.record(pending('create'));
    expect(lines[2]).toMatchObject({ operation: 'create', suppressed: 2 });
    expect(lines[2].msg).toContain('(2 more since the last line)');
    ledger.recovered();
    expect(ledger.retried).toEqual({ acknowledged: 1, pending: 1 });
  });

  it('marks the scope a change ran in, and only that one', async () => {
    const ledger = new DurabilityLedger();
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const [a, b] = await Promise.all([
      ledger.track(async () => {
        await tick();
        ledger.record(pending('create'));
        return 'a';
      }),
      ledger.track(async () => {
        await tick();
        return 'b';
      }),
    ]);
    expect(a).toEqual({ value: 'a', pending: ['create'] });
    expect(b).toEqual({ value: 'b', pending: [] });
    // Outside any scope: counted, marked nowhere.
    ledger.record(pending('rotate'));
    expect(ledger.pending).toEqual({ create: 1, rotate: 1 });
  });
});
