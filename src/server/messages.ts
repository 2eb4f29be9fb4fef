import type { Settings } from '../config';

/**
 * The IPC between the primary and its workers. Settings travel this way rather than through the
 * environment: they hold secrets, and the worker uses exactly what the primary validated.
 */
export type WorkerMessage =
  /** The worker listens for messages now: send it the settings. */
  | { readonly type: 'holdfast:hello' }
  | { readonly type: 'holdfast:listening'; readonly address: string }
  /** The worker cannot start, for a reason a restart will not fix (e.g. the port is taken). */
  | { readonly type: 'holdfast:fatal'; readonly code: string; readonly message: string };

export type PrimaryMessage =
  | {
      readonly type: 'holdfast:settings';
      readonly settings: Settings;
      /**
       * The store was unreachable at start and preflight has not passed yet (ADR 170): listen
       * with readiness false and leave the store alone until 'holdfast:preflight-passed'.
       */
      readonly preflightPending?: boolean;
    }
  /** The repeated preflight passed: connect the store, readiness follows it. */
  | { readonly type: 'holdfast:preflight-passed' }
  | { readonly type: 'holdfast:shutdown'; readonly reason: string };

export function isMessage<U extends { type: string }, K extends U['type'] = U['type']>(
  m: unknown,
  type: K,
): m is Extract<U, { type: K }> {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;
}
