import { HoldfastError } from './holdfast-error';
import { formatProblem, Problem } from './problem';

/** Settings that cannot be used; carries every problem found, not just the first. */
export class ConfigError extends HoldfastError {
  readonly problems: readonly Problem[];

  constructor(
    problems: readonly Problem[],
    code: 'HF_CONFIG_INVALID' | 'HF_CONFIG_FILE' = 'HF_CONFIG_INVALID',
  ) {
    super(code, `invalid settings:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.problems = problems;
  }
}
