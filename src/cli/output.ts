import {
  ConfigError,
  ExitCodes,
  formatProblem,
  HoldfastError,
  StoreUnavailableError,
} from '../errors';
import { PromptInterruptedError } from './password';

/** Where a command prints one line. */
export type Out = (line: string) => void;

/** 128 + SIGINT: the shell's code for a command stopped by Ctrl-C. */
export const INTERRUPTED = 130;

/** Maps an error to the CLI contract: one line per problem on stderr, and the exit code. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof StoreUnavailableError) return ExitCodes.UNAVAILABLE;
  if (err instanceof ConfigError) return ExitCodes.CONFIG;
  if (err instanceof PromptInterruptedError) return INTERRUPTED;
  if (
    err instanceof HoldfastError &&
    (err.code === 'HF_PREFLIGHT_FAILED' ||
      err.code === 'HF_STORE_NOT_SHARED' ||
      err.code === 'HF_RESHARD_REFUSED' ||
      err.code === 'HF_FORMAT_UPGRADE_REFUSED')
  ) {
    return ExitCodes.CONFIG;
  }
  if (
    err instanceof HoldfastError &&
    (err.code === 'HF_USER_INVALID' || err.code === 'HF_USER_EXISTS')
  ) {
    return ExitCodes.DATAERR;
  }
  return 1;
}

/**
 * Prints an error and returns its exit code. With --json, one line on stderr:
 * `{"error":{"code","message","problems"?},"exit":N}` (problems: one text per invalid setting).
 */
export function reportError(
  err: unknown,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  json = false,
): number {
  const exit = exitCodeFor(err);
  if (json) {
    const error =
      err instanceof ConfigError
        ? { code: err.code, message: err.message, problems: err.problems.map(formatProblem) }
        : err instanceof HoldfastError
          ? { code: err.code, message: err.message }
          : err instanceof PromptInterruptedError
            ? { code: null, message: err.message }
            : { code: 'HF_INTERNAL', message: err instanceof Error ? err.message : String(err) };
    write(JSON.stringify({ error, exit }));
  } else if (err instanceof ConfigError) {
    for (const p of err.problems) write(`holdfast: ${err.code} ${formatProblem(p)}`);
  } else if (err instanceof HoldfastError) {
    write(`holdfast: ${err.code} ${err.message}`);
  } else if (err instanceof PromptInterruptedError) {
    write(`holdfast: ${err.message}; nothing was created`);
  } else {
    write(
      `holdfast: HF_INTERNAL ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
  }
  return exit;
}
