import type { CheckStatus } from '../preflight/types';

/** One line of a preflight report (src/preflight CheckResult fits); `id` is from a fixed set. */
export interface PreflightCheckResult {
  readonly id: string;
  readonly status: CheckStatus;
  readonly subject?: string;
}

/**
 * 1 unless the check stops a start: a warning works and a skipped check does not apply. A check
 * reporting several lines (one per setting) is 0 when any line fails.
 */
export function preflightValues(results: readonly PreflightCheckResult[]): Map<string, number> {
  const values = new Map<string, number>();
  for (const r of results) {
    const ok = r.status === 'fail' || r.status === 'wait' ? 0 : 1;
    values.set(r.id, Math.min(ok, values.get(r.id) ?? 1));
  }
  return values;
}
