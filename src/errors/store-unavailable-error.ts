import type { ErrorCode } from './codes';
import { HoldfastError } from './holdfast-error';

/** The store did not answer: callers must answer 503, never treat the session as missing. */
export class StoreUnavailableError extends HoldfastError {
  constructor(operation: string, cause?: unknown, summary = 'session store unavailable') {
    const reason = cause instanceof Error ? cause.message : String(cause ?? 'no answer');
    super('HF_STORE_UNAVAILABLE', `${summary} during ${operation}: ${reason}`, { cause });
  }
}

/**
 * The store answers but refuses writes: it reached maxmemory with a policy that evicts nothing
 * it may (OOM). A StoreUnavailableError, so every rule of an outage holds (503, never a logout, a
 * failed renewal keeps the session); its own code so the answer and the log say what to fix.
 */
export class StoreFullError extends StoreUnavailableError {
  override readonly code: ErrorCode = 'HF_STORE_FULL';

  constructor(operation: string, cause?: unknown) {
    super(
      operation,
      cause,
      'session store full (maxmemory reached with a policy that evicts nothing here)',
    );
  }
}
