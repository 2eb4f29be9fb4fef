import { HoldfastError } from './holdfast-error';

/** The store did not answer: callers must answer 503, never treat the session as missing. */
export class StoreUnavailableError extends HoldfastError {
  constructor(operation: string, cause?: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause ?? 'no answer');
    super('HF_STORE_UNAVAILABLE', `session store unavailable during ${operation}: ${reason}`, {
      cause,
    });
  }
}
