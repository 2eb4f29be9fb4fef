/**
 * One thing that is wrong, said so an operator can act on it: which setting (or input), the value
 * found, what was expected, and how to fix it. Config validation and preflight both report these.
 */
export interface Problem {
  /** Setting path (`store.redis.nodes`) or check id (`store.persistence`). */
  readonly path: string;
  /** What was found, already redacted if it is a secret. */
  readonly found: string;
  readonly expected: string;
  readonly hint: string;
}

export function formatProblem(p: Problem): string {
  return `${p.path}: found ${p.found}; expected ${p.expected}; fix: ${p.hint}`;
}
