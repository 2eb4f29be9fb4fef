import Boom from '@hapi/boom';
import type { Lifecycle, Request, ResponseToolkit } from '@hapi/hapi';
import { ErrorCode, HoldfastError } from '../errors';

/** How long a client should wait after a store outage before retrying (seconds). */
export const OUTAGE_RETRY_AFTER_S = 2;
/** After HF_STORE_FULL: memory is freed by an operator, not within seconds. */
export const FULL_RETRY_AFTER_S = 30;

const STATUS: Partial<Record<ErrorCode, number>> = {
  HF_STORE_UNAVAILABLE: 503,
  HF_STORE_FULL: 503,
  HF_USER_EXISTS: 409,
  HF_USER_INVALID: 400,
  HF_REQUEST_INVALID: 400,
  HF_LOGIN_FAILED: 401,
  HF_LOGIN_THROTTLED: 429,
  HF_REGISTRATION_THROTTLED: 429,
  HF_BUSY: 503,
  HF_CSRF: 403,
  HF_UNAUTHENTICATED: 401,
  HF_SESSION_NOT_FOUND: 404,
  HF_PASSWORD_MISMATCH: 403,
  HF_CREDENTIALS_CHANGED: 401,
  HF_ACCOUNT_DISABLED: 403,
  HF_OAUTH_FAILED: 403,
  HF_OAUTH_LINK_REQUIRED: 409,
  HF_OAUTH_LINK_CONFLICT: 409,
  HF_OAUTH_NOT_LINKED: 404,
  HF_OAUTH_LAST_METHOD: 409,
  HF_REAUTH_REQUIRED: 403,
  HF_REGISTRATION_REFUSED: 403,
  HF_LOGIN_REFUSED: 403,
  HF_ACCOUNT_TOKEN_INVALID: 400,
  HF_RESET_THROTTLED: 429,
  HF_EMAIL_UNVERIFIED: 403,
  HF_VERIFY_THROTTLED: 429,
};

/**
 * The one place a HoldfastError becomes HTTP. Anything unknown is a 500 whose message is not
 * shown (it may hold internals); an outage is 503 with Retry-After and never a 401. `prefix`: the
 * plugin's route prefix, which the paths an answer names (reauth) lie under.
 */
export function toBoom(err: HoldfastError, prefix = ''): Boom.Boom {
  const status = STATUS[err.code] ?? 500;
  const boom =
    status >= 500 && status !== 503
      ? Boom.badImplementation(err.message)
      : new Boom.Boom(err.message, { statusCode: status });
  const retryAfter = retryAfterSeconds(err);
  if (retryAfter !== undefined) {
    boom.output.headers['Retry-After'] = String(retryAfter);
  } else if (err.code === 'HF_STORE_FULL') {
    // Not "retry shortly": it lasts until an operator frees memory. Signed-in users keep working.
    boom.output.payload.message = 'the session store is full; sign-in is unavailable for now';
    boom.output.headers['Retry-After'] = String(FULL_RETRY_AFTER_S);
  } else if (status === 503) {
    boom.output.payload.message = 'the session store is unavailable; retry shortly';
    boom.output.headers['Retry-After'] = String(OUTAGE_RETRY_AFTER_S);
  }
  (boom.output.payload as Record<string, unknown>).code = err.code;
  // Where to confirm: the password route (an account without one confirms through a provider).
  if (err.code === 'HF_REAUTH_REQUIRED')
    (boom.output.payload as Record<string, unknown>).reauth = `${prefix}/auth/reauth`;
  return boom;
}

/**
 * Whole seconds to wait, for errors that know (throttling: ThrottledError,
 * RegistrationThrottledError; a full hashing queue: BusyError); undefined for the rest.
 */
export function retryAfterSeconds(err: HoldfastError): number | undefined {
  const ms = (err as HoldfastError & { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === 'number' ? Math.max(1, Math.ceil(ms / 1000)) : undefined;
}

/** Route validation failures name the field (joi's message) and carry HF_REQUEST_INVALID. */
export const failAction: Lifecycle.Method = (
  _request: Request,
  _h: ResponseToolkit,
  err?: Error,
) => {
  const detail = (err as { details?: Array<{ message: string }> } | undefined)?.details?.[0]
    ?.message;
  throw new HoldfastError('HF_REQUEST_INVALID', detail ?? err?.message ?? 'invalid request');
};
