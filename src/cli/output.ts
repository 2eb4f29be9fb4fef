import {
  ConfigError,
  ExitCodes,
  formatProblem,
  HoldfastError,
  StoreUnavailableError,
} from '../errors';

/** Where a command prints one line. */
export type Out = (line: string) => void;

/** Maps an error to the CLI contract: one line per problem on stderr, and the exit code. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof StoreUnavailableError) return ExitCodes.UNAVAILABLE;
  if (err instanceof ConfigError) return ExitCodes.CONFIG;
  if (err instanceof HoldfastError && err.code === 'HF_PREFLIGHT_FAILED') return ExitCodes.CONFIG;
  if (
    err instanceof HoldfastError &&
    (err.code === 'HF_USER_INVALID' || err.code === 'HF_USER_EXISTS')
  ) {
    return ExitCodes.DATAERR;
  }
  return 1;
}

export function reportError(
  err: unknown,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): number {
  if (err instanceof ConfigError) {
    for (const p of err.problems) write(`holdfast: ${err.code} ${formatProblem(p)}`);
  } else if (err instanceof HoldfastError) {
    write(`holdfast: ${err.code} ${err.message}`);
  } else {
    write(
      `holdfast: HF_INTERNAL ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
  }
  return exitCodeFor(err);
}
