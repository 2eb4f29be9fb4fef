/** The fault table `make reliability` writes: one row per record, only between the markers. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  readPartitionResults,
  readResults,
  renderTable,
  rewriteTable,
  TABLE_END,
  TABLE_START,
  type FaultResult,
  type PartitionResult,
} from '../../support/fault-report';

const record = (scenario: string, unavailableReads: number): FaultResult => ({
  scenario,
  title: `${scenario} title`,
  loadSeconds: 20,
  counts: {
    requests: 1000,
    ok2xx: 950,
    unauthorized: 0,
    revokedAccepted: 0,
    revokedRefused: 40,
    unavailableReads,
    unavailableWrites: 3,
    otherStatus: { '500': 1 },
    noAnswer: 2,
    connectionErrors: { ECONNRESET: 4 },
    noBackendWaits: 7,
    sessionsCreated: 90,
    createsUnsure: 3,
    slowestMs: 1234,
  },
  sessionsCreated: 120,
  sessionsExpectedValid: 115,
  sessionsValidAfter: 115,
  revoked: 5,
  revokedStillRevoked: 5,
  liveCount: 117,
  liveCountExpected: [115, 118],
  secondsToFullHealth: 4.56,
  reproduce: `FAULT_SECONDS=20 npx jest test/e2e/faults/${scenario}.test.ts`,
  ranAt: '2026-12-01T23:00:00Z',
  loadAverage: '1.00 2.00 3.00',
});

test('a row per scenario with every figure, and when it ran', () => {
  const table = renderTable([record('kill-master', 5), record('stop-master', 9)]).split('\n');
  expect(table[2]).toBe(
    '| kill-master title | 20 | 1000 | 950 | 0 | 5 | 3 | 1 | 2 | 4 | 7 | 1234 | 120 | 115 of 115 | 5 of 5 | 117 (115-118) | 4.6 | `FAULT_SECONDS=20 npx jest test/e2e/faults/kill-master.test.ts` |',
  );
  expect(table[3]).toContain('| stop-master title | 20 | 1000 | 950 | 0 | 9 |');
  expect(table[0].split('|').length).toBe(table[2].split('|').length);
  expect(table.at(-1)).toBe(
    'Measured from 2026-12-01T23:00:00Z (load average 1.00 2.00 3.00) to 2026-12-01T23:00:00Z (load average 1.00 2.00 3.00).',
  );
});

test('rewrites only what lies between the markers', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fault-table-')), 'r.md');
  fs.writeFileSync(file, `# before\n${TABLE_START}\nold table\n${TABLE_END}\nafter\n`);
  rewriteTable(file, [record('kill-master', 5)]);
  const text = fs.readFileSync(file, 'utf8');
  expect(text.startsWith(`# before\n${TABLE_START}\n| scenario |`)).toBe(true);
  expect(text).not.toContain('old table');
  expect(text.endsWith(`${TABLE_END}\nafter\n`)).toBe(true);
  fs.writeFileSync(file, 'no markers\n');
  expect(() => rewriteTable(file, [])).toThrow('no <!-- fault-table:start -->');
});

const partition: PartitionResult = {
  kind: 'partition',
  scenario: 'partition',
  title: 'g. partition title',
  partitionSeconds: 5.54,
  requests: 600,
  ok2xx: 589,
  unauthorized: 0,
  unavailableCut: 11,
  unavailableOthers: 0,
  other: 0,
  noAnswer: 0,
  secondsToNotReady: 1.354,
  secondsToServe: 0.5,
  reproduce: 'npx jest test/e2e/faults/partition.test.ts',
  ranAt: '2026-12-02T03:00:00Z',
  loadAverage: '4.00 5.00 6.00',
};

test('the partition record gets a table of its own under the fault rows, in the same run window', () => {
  const table = renderTable([record('kill-master', 5)], [partition]).split('\n');
  expect(table[3]).toBe('');
  expect(table[4]).toBe(
    '| scenario | cut s | requests | 2xx | 401 | 503 on the cut node | 503 on the others | other | no answer | s to not ready | s to serve again after the heal | reproduce |',
  );
  expect(table[6]).toBe(
    '| g. partition title | 5.5 | 600 | 589 | 0 | 11 | 0 | 0 | 0 | 1.35 | 0.50 | `npx jest test/e2e/faults/partition.test.ts` |',
  );
  expect(table[4].split('|').length).toBe(table[6].split('|').length);
  expect(table.at(-1)).toBe(
    'Measured from 2026-12-01T23:00:00Z (load average 1.00 2.00 3.00) to 2026-12-02T03:00:00Z (load average 4.00 5.00 6.00).',
  );
  // Without partition records: the fault table alone, as before.
  expect(renderTable([record('kill-master', 5)])).not.toContain('cut s');
});

test('records on disk: the partition one is read apart from the fault scenarios', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-records-'));
  fs.writeFileSync(path.join(dir, 'kill-master.json'), JSON.stringify(record('kill-master', 0)));
  fs.writeFileSync(path.join(dir, 'partition.json'), JSON.stringify(partition));
  expect(readResults(dir).map((r) => r.scenario)).toEqual(['kill-master']);
  expect(readPartitionResults(dir)).toEqual([partition]);
});
