import { HoldfastError, StoreFullError, StoreUnavailableError } from '../../errors';
import { describe, storeUnavailable, Target } from './unavailable';

/**
 * Which failures mean "the store did not answer" (503, never a logout) and which are bugs (500).
 * Anything that is not a Redis reply is about the connection: closed, timed out, offline queue
 * off, cluster not ready, slots not refreshable. Of the replies, these prefixes are states of the
 * server or the cluster, not of the command.
 */
const UNAVAILABLE_REPLIES = [
  'CLUSTERDOWN',
  'TRYAGAIN',
  'LOADING',
  'MASTERDOWN',
  'READONLY',
  // A WAIT (or other blocked command) cut short because its master turned replica (failover).
  'UNBLOCKED',
  'BUSY',
  'NOREPLICAS',
  'MOVED',
  'ASK',
  'OOM',
  'NOAUTH',
  'WRONGPASS',
];

/** ioredis exports ReplyError untyped; its name is stable. */
export function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError';
}

/** The first word of a reply error (`MOVED`, `NOSCRIPT`, `WRONGTYPE`), or '' for other errors. */
export function replyCode(err: unknown): string {
  return isReplyError(err) ? (err.message.split(' ', 1)[0] ?? '') : '';
}

/** Errors of our own code, never of the store. */
const BUGS = [TypeError, RangeError, ReferenceError, SyntaxError];

export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof HoldfastError) return false;
  if (BUGS.some((kind) => err instanceof kind)) return false;
  if (!isReplyError(err)) return true;
  return UNAVAILABLE_REPLIES.includes(replyCode(err));
}

/** The 503 for `err`, with its cause counted and logged (storeUnavailable). */
function unavailable(operation: string, err: unknown, target?: Target): StoreUnavailableError {
  const report = describe(operation, err, target);
  storeUnavailable.record(report);
  // Full, not down: its own code, so the answer and the operator see what to fix.
  if (report.cause === 'oom') return new StoreFullError(operation, err);
  return new StoreUnavailableError(operation, err);
}

/**
 * `err` as StoreUnavailableError when the store did not answer; anything else passes unchanged.
 * `target` (the client and a key) lets the cause's log line name the slot and the node.
 */
export function storeError(operation: string, err: unknown, target?: Target): Error {
  if (isUnavailable(err)) return unavailable(operation, err, target);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Like storeError, for a Lua script: an error reply that is not an outage (a script error, a key
 * of the wrong type) is HF_STORE_SCRIPT naming the script, so the 500's log line says which one
 * failed. The reply's first line only: Redis appends the script's SHA and line, never data.
 */
export function scriptError(
  operation: string,
  script: string,
  err: unknown,
  target?: Target,
): Error {
  if (isUnavailable(err)) return unavailable(operation, err, target);
  if (isReplyError(err)) {
    return new HoldfastError(
      'HF_STORE_SCRIPT',
      `store script ${script} failed during ${operation}: ${err.message.split('\n', 1)[0]}`,
      { cause: err },
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
