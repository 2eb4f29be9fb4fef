import type { Settings } from '../config';
import type { ConfigError } from '../errors';
import type { StoreFacts } from './facts';
import type { CheckOutcome } from './types';

export interface PreflightOptions {
  /** Our clock, for process.clock (tests shift it). Default Date.now. */
  readonly now?: () => number;
  /** Largest difference between the store's TIME and ours that passes (default 2000 ms). */
  readonly clockToleranceMs?: number;
  /**
   * When every check passed, record the layout in `{prefix}:meta` if none is recorded yet
   * (`holdfast start` does; `holdfast preflight` only reads).
   */
  readonly recordLayout?: boolean;
  /**
   * This node already listens on http.port and metrics.port (preflight repeated after the store
   * was unreachable at start, ADR 170): process.ports is skipped instead of finding them taken.
   */
  readonly portsHeld?: boolean;
}

/** What every check may look at. Facts exist only for a Redis store with valid settings. */
export interface PreflightContext {
  readonly settings?: Settings;
  readonly settingsError?: ConfigError;
  readonly facts?: StoreFacts;
  readonly options: PreflightOptions;
}

/** Valid settings and a Redis store: what a store check needs before it can look at anything. */
export interface StoreContext extends PreflightContext {
  readonly settings: Settings;
  readonly facts: StoreFacts;
}

/**
 * When a check runs at all:
 * - always: the settings check itself;
 * - settings: valid settings;
 * - redis: valid settings and store.type redis;
 * - store: as redis, and at least one data node answered and accepted the credentials.
 */
export type CheckGate = 'always' | 'settings' | 'redis' | 'store';

export interface CheckDefinition {
  readonly id: string;
  /** One sentence for `holdfast preflight --list` and docs/errors.md. */
  readonly summary: string;
  readonly gate: CheckGate;
  run(
    ctx: PreflightContext,
  ): CheckOutcome | CheckOutcome[] | Promise<CheckOutcome | CheckOutcome[]>;
}

/** Joins node descriptions, keeping a line readable when a large cluster has many. */
export function listOf(items: readonly string[], max = 6): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
