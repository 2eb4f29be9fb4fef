import { CHECK_IDS } from './catalogue';
import type { CheckResult, PreflightReport } from './types';

/**
 * The lines `holdfast preflight` prints and a failing `holdfast start` prints too, byte for byte:
 * one line per check (a table for people) or one JSON document (for machines).
 */

const ID_WIDTH = Math.max(...CHECK_IDS.map((id) => id.length));

/** `FAIL store.persistence  found ...; expected ...; fix: ...` */
export function formatResult(r: CheckResult): string {
  const head = `${r.status.toUpperCase().padEnd(4)} ${r.id.padEnd(ID_WIDTH)}  ${r.subject ? `${r.subject}: ` : ''}`;
  if (r.status === 'skip') return `${head}skipped: ${r.observed}`;
  const parts = [`found ${r.observed}`, `expected ${r.expected}`];
  if (r.hint && r.status !== 'pass') parts.push(`fix: ${r.hint}`);
  return `${head}${parts.join('; ')}`;
}

export function summaryLine(report: PreflightReport): string {
  const count = (s: string) => report.results.filter((r) => r.status === s).length;
  const verdict =
    report.exitCode === 0
      ? 'ok'
      : report.exitCode === 69
        ? 'store unavailable or not ready (exit 69)'
        : 'configuration problem (exit 78)';
  return `preflight: ${count('pass')} passed, ${count('warn')} warnings, ${count('fail')} failed, ${count('wait')} not yet, ${count('skip')} skipped: ${verdict}`;
}

/**
 * The table: one line per check, then the summary. `foldSkipped` (a `holdfast start` that passed):
 * a run of checks skipped for one reason is one line, so a development start on the memory store
 * shows what it checked rather than twenty lines about the Redis it does not use.
 */
export function formatTable(report: PreflightReport, foldSkipped = false): string[] {
  const lines: string[] = [];
  const results = report.results;
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    let end = i + 1;
    if (foldSkipped && r.status === 'skip')
      while (end < results.length && isSameSkip(results[end], r)) end++;
    if (end - i < 2) {
      lines.push(formatResult(r));
      continue;
    }
    const checks = `${end - i} checks`.padEnd(ID_WIDTH);
    lines.push(`SKIP ${checks}  skipped: ${r.observed} (holdfast preflight lists each)`);
    i = end - 1;
  }
  return [...lines, summaryLine(report)];
}

function isSameSkip(r: CheckResult, first: CheckResult): boolean {
  return r.status === 'skip' && r.observed === first.observed;
}

export function formatJson(report: PreflightReport): string {
  return JSON.stringify({
    ok: report.exitCode === 0,
    exitCode: report.exitCode,
    checks: report.results.map((r) => ({
      id: r.id,
      status: r.status,
      ...(r.subject ? { subject: r.subject } : {}),
      observed: r.observed,
      expected: r.expected,
      hint: r.hint,
      transient: r.transient ?? false,
    })),
  });
}

/** Failures and warnings only: what a successful start logs, and a waiting start repeats. */
export function problemLines(report: PreflightReport): string[] {
  return report.results
    .filter((r) => r.status === 'fail' || r.status === 'warn' || r.status === 'wait')
    .map(formatResult);
}
