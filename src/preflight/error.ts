import { HoldfastError } from '../errors';
import { formatTable, problemLines } from './format';
import type { PreflightReport } from './types';

/**
 * A preflight that would stop `holdfast start` (exit 78: configuration; 69: the store is not
 * available yet). The message holds the same one line per problem that `holdfast start` prints.
 */
export class PreflightError extends HoldfastError {
  /** 78 (EX_CONFIG) or 69 (EX_UNAVAILABLE), as `holdfast start` would exit. */
  readonly exitCode: 69 | 78;
  /** The failing, waiting and warning lines, as printed by `holdfast start`. */
  readonly problems: readonly string[];
  readonly report: PreflightReport;

  constructor(report: PreflightReport) {
    const table = formatTable(report);
    super(
      'HF_PREFLIGHT_FAILED',
      `preflight failed:\n${problemLines(report)
        .map((line) => `  ${line}`)
        .join('\n')}\n${table[table.length - 1]}`,
    );
    this.exitCode = report.exitCode === 69 ? 69 : 78;
    this.problems = problemLines(report);
    this.report = report;
  }
}
