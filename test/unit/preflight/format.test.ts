import {
  CATALOGUE,
  CHECK_IDS,
  exitCodeOf,
  formatJson,
  formatResult,
  formatTable,
} from '../../../src/preflight';
import type { CheckResult, PreflightReport } from '../../../src/preflight';

const result = (r: Partial<CheckResult> & Pick<CheckResult, 'id' | 'status'>): CheckResult => ({
  observed: 'something',
  expected: 'something else',
  hint: 'do this',
  ...r,
});

describe('the catalogue', () => {
  test('ids are unique, dotted lower-case words', () => {
    expect(new Set(CHECK_IDS).size).toBe(CHECK_IDS.length);
    for (const id of CHECK_IDS) expect(id).toMatch(/^[a-z]+(\.[a-z-]+)*$/);
  });

  test('settings runs first and alone needs nothing; every check has a summary', () => {
    expect(CHECK_IDS[0]).toBe('settings');
    expect(CATALOGUE.filter((c) => c.gate === 'always').map((c) => c.id)).toEqual(['settings']);
    for (const c of CATALOGUE) expect(c.summary.length).toBeGreaterThan(20);
  });

  test('covers what the issue asks for', () => {
    for (const id of [
      'settings',
      'store.reachable',
      'store.auth',
      'store.tls',
      'store.dns',
      'store.mode',
      'cluster.state',
      'cluster.slots',
      'cluster.nodes',
      'store.replicas',
      'store.persistence',
      'store.persistence.errors',
      'store.loading',
      'store.eviction',
      'store.memory',
      'store.version',
      'store.config-access',
      'store.scripts',
      'store.layout',
      'process.cookie-password',
      'process.clock',
      'store.memory-engine',
    ]) {
      expect(CHECK_IDS).toContain(id);
    }
  });
});

describe('exit codes', () => {
  test('0 when nothing failed: warnings and skips do not stop a start', () => {
    expect(
      exitCodeOf([
        result({ id: 'a', status: 'pass' }),
        result({ id: 'b', status: 'warn' }),
        result({ id: 'c', status: 'skip' }),
      ]),
    ).toBe(0);
  });

  test('69 for not-yet and transient failures only', () => {
    expect(exitCodeOf([result({ id: 'store.loading', status: 'wait', transient: true })])).toBe(69);
    expect(exitCodeOf([result({ id: 'store.reachable', status: 'fail', transient: true })])).toBe(
      69,
    );
  });

  test('78 as soon as one failure is about configuration, even beside transient ones', () => {
    expect(
      exitCodeOf([
        result({ id: 'store.reachable', status: 'fail', transient: true }),
        result({ id: 'store.persistence', status: 'fail' }),
      ]),
    ).toBe(78);
  });
});

describe('lines', () => {
  test('a failure says found, expected and fix, with the id in a fixed-width column', () => {
    const line = formatResult(
      result({
        id: 'store.eviction',
        status: 'fail',
        observed: 'x:1 maxmemory-policy allkeys-lru',
        expected: 'noeviction',
        hint: 'CONFIG SET maxmemory-policy noeviction',
      }),
    );
    expect(line).toBe(
      `FAIL ${'store.eviction'.padEnd(Math.max(...CHECK_IDS.map((i) => i.length)))}  found x:1 maxmemory-policy allkeys-lru; expected noeviction; fix: CONFIG SET maxmemory-policy noeviction`,
    );
  });

  test('a pass has no fix; a skip says why; a subject comes first', () => {
    expect(formatResult(result({ id: 'store.version', status: 'pass' }))).not.toContain('fix:');
    expect(formatResult(result({ id: 'store.dns', status: 'skip', observed: 'not set' }))).toMatch(
      /^SKIP store\.dns +skipped: not set$/,
    );
    expect(
      formatResult(
        result({ id: 'settings', status: 'fail', subject: 'http.port', observed: '"x"' }),
      ),
    ).toMatch(/^FAIL settings +http\.port: found "x"; /);
  });

  test('the table ends with a summary naming the exit code', () => {
    const lines = formatTable({
      results: [result({ id: 'store.memory', status: 'warn' })],
      exitCode: 0,
    });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('preflight: 0 passed, 1 warnings, 0 failed, 0 not yet, 0 skipped: ok');
  });

  test('folded (holdfast start): a run of checks skipped for one reason is one line; other lines stay', () => {
    const memory = 'store.type is memory: there is no Redis to check';
    const report: PreflightReport = {
      results: [
        result({ id: 'settings', status: 'pass' }),
        result({ id: 'store.dns', status: 'skip', observed: 'not set' }),
        result({ id: 'store.reachable', status: 'skip', observed: memory }),
        result({ id: 'store.tls', status: 'skip', observed: memory }),
        result({ id: 'store.auth', status: 'skip', observed: memory }),
        result({ id: 'store.mode', status: 'warn' }),
        result({ id: 'store.version', status: 'skip', observed: memory }),
      ],
      exitCode: 0,
    };
    const folded = formatTable(report, true);
    expect(folded).toHaveLength(6);
    expect(folded[0]).toMatch(/^PASS settings /);
    expect(folded[1]).toMatch(/^SKIP store\.dns +skipped: not set$/);
    expect(folded[2]).toMatch(
      /^SKIP 3 checks +skipped: store\.type is memory: there is no Redis to check \(holdfast preflight lists each\)$/,
    );
    expect(folded[3]).toMatch(/^WARN store\.mode /);
    expect(folded[4]).toMatch(/^SKIP store\.version +skipped: store\.type is memory/);
    expect(folded[5]).toBe('preflight: 1 passed, 1 warnings, 0 failed, 0 not yet, 5 skipped: ok');
    // holdfast preflight keeps one line per check.
    expect(formatTable(report)).toHaveLength(8);
  });

  test('JSON carries every field machines need', () => {
    const doc = JSON.parse(
      formatJson({
        results: [result({ id: 'store.reachable', status: 'fail', transient: true })],
        exitCode: 69,
      }),
    );
    expect(doc).toEqual({
      ok: false,
      exitCode: 69,
      checks: [
        {
          id: 'store.reachable',
          status: 'fail',
          observed: 'something',
          expected: 'something else',
          hint: 'do this',
          transient: true,
        },
      ],
    });
  });
});
