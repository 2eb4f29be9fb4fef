/**
 * What a start-up check reports. One result is one line of `holdfast preflight` and of a failing
 * `holdfast start`: what was found, what was expected, and how to fix it.
 */

/**
 * - pass: as required.
 * - warn: works, but an operator should look (never stops a start).
 * - fail: would break sessions or lose them; the node does not start.
 * - wait: not yet (a node still loading its data): retrying may succeed.
 * - skip: does not apply here, or could not be made (the line says why).
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'wait' | 'skip';

export interface CheckOutcome {
  readonly status: CheckStatus;
  /** What was found. Never a secret: passwords appear as "a secret of N characters". */
  readonly observed: string;
  readonly expected: string;
  /** How to fix it; empty for pass and skip. */
  readonly hint: string;
  /**
   * A failure of availability rather than of configuration (store down, DNS name with no
   * address yet, nodes failing): exit 69 instead of 78, and `store.startupWait` retries it.
   */
  readonly transient?: boolean;
  /** What the line is about when a check reports several lines (a setting path). */
  readonly subject?: string;
}

export interface CheckResult extends CheckOutcome {
  /** The check's stable id (docs/errors.md lists every one). */
  readonly id: string;
}

export interface PreflightReport {
  readonly results: readonly CheckResult[];
  /** 0 (nothing failed), 69 (only availability failed or not yet), 78 (configuration failed). */
  readonly exitCode: 0 | 69 | 78;
}

export function pass(observed: string, expected: string): CheckOutcome {
  return { status: 'pass', observed, expected, hint: '' };
}

export function warn(observed: string, expected: string, hint: string): CheckOutcome {
  return { status: 'warn', observed, expected, hint };
}

export function fail(
  observed: string,
  expected: string,
  hint: string,
  opts: { transient?: boolean; subject?: string } = {},
): CheckOutcome {
  return { status: 'fail', observed, expected, hint, ...opts };
}

export function wait(observed: string, expected: string, hint: string): CheckOutcome {
  return { status: 'wait', observed, expected, hint, transient: true };
}

export function skip(reason: string, expected = 'n/a'): CheckOutcome {
  return { status: 'skip', observed: reason, expected, hint: '' };
}
