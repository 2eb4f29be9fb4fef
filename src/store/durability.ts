import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../log/logger';

/**
 * Honest durability (ADR 215). With store.redis.durability.replicas > 0 every change is followed
 * by WAIT; when fewer replicas acknowledge in time the change still happened on the master, so it
 * is not reported as a failure (a login would leave a session nobody holds a cookie for). It is
 * reported as "pending": counted here (holdfast_durability_pending_total{operation}), logged, and
 * marked on the request being served so the plugin answers with `Holdfast-Durability: pending`.
 */

/** Operations that end something (a logout, a revocation): WAIT is retried before "pending". */
export const REVOKING_OPERATIONS: ReadonlySet<string> = new Set([
  'revoke',
  'revokeUser',
  'revokeSeries',
  'revokeShard',
]);

/** WAITs sent again after the first one timed out, for REVOKING_OPERATIONS (bounded). */
export const WAIT_RETRIES = 2;

/** The operations whose series exist at 0 from the start (the hot ones; others appear on use). */
export const DURABLE_OPERATIONS = [
  'create',
  'createSeries',
  'useSeries',
  'rotate',
  'revoke',
  'revokeSeries',
  'revokeUser',
  'revokeShard',
  'users.create',
  'users.updatePassword',
  'throttle.attempt',
] as const;

/** What one request's changes left pending (the plugin reads it when it answers). */
export interface DurabilityScope {
  readonly pending: string[];
}

/** One warn line per operation at most every this many ms; the ones in between are counted. */
export const DURABILITY_LOG_INTERVAL_MS = 10_000;

export interface PendingWrite {
  readonly operation: string;
  readonly acknowledged: number;
  readonly required: number;
  /** WAITs sent again before giving up (0 unless the operation is a revocation). */
  readonly retries: number;
}

export class DurabilityLedger {
  /** Changes left pending, by operation. */
  readonly pending: Record<string, number> = {};
  /** WAIT retries of revocations by outcome: acknowledged in the end, or still pending. */
  readonly retried = { acknowledged: 0, pending: 0 };
  private logger: Logger | undefined;
  private readonly scopes = new AsyncLocalStorage<DurabilityScope>();
  private readonly lastLogged = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  useLogger(logger: Logger | undefined): void {
    this.logger = logger;
  }

  /**
   * Starts a scope for the rest of this asynchronous flow (a request: the plugin's onRequest);
   * changes made in it are marked there.
   */
  enter(): DurabilityScope {
    const scope: DurabilityScope = { pending: [] };
    this.scopes.enterWith(scope);
    return scope;
  }

  /** Runs `fn` in a scope of its own and says what it left pending (CLI, admin, tests). */
  async track<T>(fn: () => Promise<T>): Promise<{ value: T; pending: string[] }> {
    const scope: DurabilityScope = { pending: [] };
    const value = await this.scopes.run(scope, fn);
    return { value, pending: scope.pending };
  }

  /** A retried WAIT that was acknowledged after all. */
  recovered(): void {
    this.retried.acknowledged++;
  }

  /** A change the master made that fewer replicas than required acknowledged in time. */
  record(write: PendingWrite): void {
    this.pending[write.operation] = (this.pending[write.operation] ?? 0) + 1;
    if (write.retries > 0) this.retried.pending++;
    this.scopes.getStore()?.pending.push(write.operation);
    if (!this.logger) return;
    const now = this.now();
    const last = this.lastLogged.get(write.operation);
    if (last !== undefined && now - last < DURABILITY_LOG_INTERVAL_MS) {
      this.suppressed.set(write.operation, (this.suppressed.get(write.operation) ?? 0) + 1);
      return;
    }
    const suppressed = this.suppressed.get(write.operation) ?? 0;
    this.lastLogged.set(write.operation, now);
    this.suppressed.set(write.operation, 0);
    this.logger.warn(
      { ...write, suppressed },
      `durability pending: ${write.operation} applied on the master but ${write.acknowledged} of ` +
        `${write.required} replicas acknowledged it within store.redis.durability.timeout` +
        (write.retries ? ` (after ${write.retries} more WAITs)` : '') +
        '; a failover before it replicates would lose it' +
        (suppressed ? ` (${suppressed} more since the last line)` : ''),
    );
  }

  /** Forgets the rate limit (tests). */
  reset(): void {
    this.lastLogged.clear();
    this.suppressed.clear();
  }
}

/** Process-wide, like storeUnavailable: the engine and the user stores share it. */
export const durability = new DurabilityLedger();
