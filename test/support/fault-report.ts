/**
 * One record per fault scenario, written as JSON under test-artifacts/faults/ by every run, and
 * the table `make reliability` puts into docs/reliability.md between the fault-table markers.
 * Other scenario files (partition, maxmemory, same-session races) write the same record.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LoadCounts } from './load';

export const FAULT_DIR = path.join(__dirname, '../../test-artifacts/faults');
export const TABLE_START = '<!-- fault-table:start -->';
export const TABLE_END = '<!-- fault-table:end -->';

/**
 * 503s on authenticated reads each scenario may give. With replica reads (ADR 205, 241: the
 * session and the user record) a master's death (kill -9, SIGSTOP, the failover of d) costs no
 * read; only the whole cluster's restart answers reads 503 while no node serves. Writes
 * (registration) may answer 503 with Retry-After while no master owns a slot, so they are
 * reported, not limited.
 */
export const ALLOWED_READ_503: Record<string, number> = {
  'rolling-restart': 0,
  'kill-master': 0,
  'stop-master': 0,
  'replica-and-old-master': 0,
  'cluster-restart': Infinity,
  'drain-and-add-master': 0,
  'grow-shard-count': 0,
};

/**
 * A request's answer bound. Holdfast's own bound is store.redis.commandTimeout (1 s in the
 * suite) per store command; /auth/me makes one read and, when it renews, one write plus a WAIT
 * (durability.timeout 100 ms); a registration makes a few. 5 s leaves those plus the load of two
 * busy cores (event-loop stalls of a second were seen while six nodes start): anything slower is
 * a request a user gave up on, which is what issue 12 item 3 forbids.
 */
export const NO_ANSWER_MS = 5_000;

export interface FaultResult {
  scenario: string;
  title: string;
  /** Seconds of load before and after the fault (FAULT_SECONDS). */
  loadSeconds: number;
  counts: LoadCounts;
  /** Sessions alive before the fault (signed in) plus those made under load. */
  sessionsCreated: number;
  sessionsExpectedValid: number;
  sessionsValidAfter: number;
  revoked: number;
  revokedStillRevoked: number;
  /** `holdfast sessions count` afterwards, and the range it must lie in. */
  liveCount: number;
  liveCountExpected: [number, number];
  /** From the first fault action to every Redis node linked and every Holdfast node ready. */
  secondsToFullHealth: number;
  reproduce: string;
  /** When and where it ran: the figures depend on the machine's load. */
  ranAt: string;
  loadAverage: string;
}

export function writeResult(result: FaultResult): void {
  fs.mkdirSync(FAULT_DIR, { recursive: true });
  fs.writeFileSync(
    path.join(FAULT_DIR, `${result.scenario}.json`),
    `${JSON.stringify(result, null, 2)}\n`,
  );
}

export function readResults(dir = FAULT_DIR): FaultResult[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as FaultResult)
    .sort((a, b) => a.title.localeCompare(b.title));
}

const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** The markdown table, one row per scenario. */
export function renderTable(results: FaultResult[]): string {
  const head = [
    'scenario',
    'load s',
    'requests',
    '2xx',
    '401',
    '503 reads',
    '503 writes',
    'other',
    'no answer (> 5 s)',
    'conn. errors',
    'waits for a ready node',
    'slowest ms',
    'sessions created',
    'valid after',
    'revoked still revoked',
    'live count (expected)',
    's to full health',
    'reproduce',
  ];
  const rows = results.map((r) => [
    r.title,
    r.loadSeconds,
    r.counts.requests,
    r.counts.ok2xx,
    r.counts.unauthorized,
    r.counts.unavailableReads,
    r.counts.unavailableWrites,
    sum(r.counts.otherStatus),
    r.counts.noAnswer,
    sum(r.counts.connectionErrors),
    r.counts.noBackendWaits,
    r.counts.slowestMs,
    r.sessionsCreated,
    `${r.sessionsValidAfter} of ${r.sessionsExpectedValid}`,
    `${r.revokedStillRevoked} of ${r.revoked}`,
    `${r.liveCount} (${r.liveCountExpected[0] === r.liveCountExpected[1] ? r.liveCountExpected[0] : r.liveCountExpected.join('-')})`,
    r.secondsToFullHealth.toFixed(1),
    `\`${r.reproduce}\``,
  ]);
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  const when = [...results]
    .sort((a, b) => a.ranAt.localeCompare(b.ranAt))
    .map((r) => `${r.ranAt} (load average ${r.loadAverage})`);
  return [
    line(head),
    line(head.map(() => '---')),
    ...rows.map(line),
    '',
    `Measured ${when.length > 0 ? `from ${when[0]} to ${when[when.length - 1]}` : 'never'}.`,
  ].join('\n');
}

/** Replaces what lies between the markers of `file` with the table. */
export function rewriteTable(file: string, results: FaultResult[]): void {
  const text = fs.readFileSync(file, 'utf8');
  const start = text.indexOf(TABLE_START);
  const end = text.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`${file}: no ${TABLE_START} ... ${TABLE_END}`);
  fs.writeFileSync(
    file,
    `${text.slice(0, start + TABLE_START.length)}\n${renderTable(results)}\n${text.slice(end)}`,
  );
}
