import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The whole request's deadline for store work (ADR 245). Each command already has its own
 * store.redis.commandTimeout, but a write request sends several in a row (throttle, user lookup,
 * session script, WAIT, retries after a redirect), so its answer could come after two or three
 * timeouts. The plugin enters a scope per request (onRequest) whose deadline is the request's
 * arrival plus commandTimeout; every store call made in that request is bounded by what is left:
 * redirect retries stop (withRedirects), a command still unanswered at the deadline is given up
 * (DeadlineError, a 503 with cause `deadline`), WAIT's own timeout is fitted inside it, and a
 * revocation's WAIT retries end early (pending: 202). Outside a scope (CLI, start-up, background
 * loops) nothing changes.
 */

/**
 * What the answer may take after the store's deadline: hashing, encoding, the route's own work on
 * two busy cores. A request that touches the store is answered within commandTimeout + this.
 */
export const ANSWER_MARGIN_MS = 250;

/**
 * Redis checks a blocked WAIT's timeout at its timer tick (hz 10 by default: every 100 ms), so a
 * WAIT can return up to that much after its timeout, plus the round trip on a busy machine (50 ms
 * here). A WAIT is sent with at most the time left minus this, so its reply (acknowledged or not)
 * comes before the deadline.
 */
export const WAIT_TICK_MS = 150;

/** A store call given up at the request's deadline (its outcome unknown): a 503, cause `deadline`. */
export class DeadlineError extends Error {
  constructor(budgetMs: number) {
    super(`request deadline reached: store work may take ${budgetMs} ms per request`);
    this.name = 'DeadlineError';
  }
}

interface Scope {
  /** Epoch ms after which no store call of this request may still be waited for (see paused). */
  at: number;
  readonly budget: number;
  /** Set while the clock is stopped (pause). */
  pausedAt?: number;
}

export class RequestDeadlines {
  private readonly scopes = new AsyncLocalStorage<Scope>();

  /** Starts a deadline for the rest of this asynchronous flow (a request: the plugin's onRequest). */
  enter(startedAt: number, budgetMs: number): void {
    this.scopes.enterWith({ at: startedAt + budgetMs, budget: budgetMs });
  }

  /**
   * Stops the clock (the request's payload is being read: a client's slow upload is its own time,
   * not the store's) until resume; the time in between is added to the deadline.
   */
  pause(now = Date.now()): void {
    const scope = this.scopes.getStore();
    if (scope && scope.pausedAt === undefined) scope.pausedAt = now;
  }

  resume(now = Date.now()): void {
    const scope = this.scopes.getStore();
    if (scope?.pausedAt === undefined) return;
    scope.at += now - scope.pausedAt;
    scope.pausedAt = undefined;
  }

  /** Runs `fn` under a deadline `budgetMs` from now (tests, library callers). */
  run<T>(budgetMs: number, fn: () => Promise<T>): Promise<T> {
    return this.scopes.run({ at: Date.now() + budgetMs, budget: budgetMs }, fn);
  }

  /**
   * Starts `fn` outside any deadline: work that goes on after the request answered (a retried
   * revocation, ADR 272) must not carry a deadline that has passed into every later attempt.
   */
  detached<T>(fn: () => T): T {
    return this.scopes.exit(fn);
  }

  /**
   * Runs work that is not store work with the deadline paused: the deadline bounds the waiting for
   * the store, and a password hash (and its queue) slowed by a busy machine must not turn a
   * healthy store's login into a 503. The time `work` took is added to the deadline.
   */
  async paused<T>(work: () => Promise<T>): Promise<T> {
    const scope = this.scopes.getStore();
    if (!scope) return work();
    const started = Date.now();
    try {
      return await work();
    } finally {
      scope.at += Date.now() - started;
    }
  }

  /** Epoch ms of the current deadline; Infinity outside a scope. */
  at(): number {
    const scope = this.scopes.getStore();
    return scope ? deadlineOf(scope, Date.now()) : Infinity;
  }

  /** Ms left before the deadline (may be ≤ 0); Infinity outside a scope. */
  remaining(now = Date.now()): number {
    return this.at() - now;
  }

  /** Throws DeadlineError when the deadline has passed: no new store call is started then. */
  check(): void {
    const scope = this.scopes.getStore();
    const now = Date.now();
    if (scope && now >= deadlineOf(scope, now)) throw new DeadlineError(scope.budget);
  }

  /**
   * `work`, or DeadlineError when the deadline comes first (the command may still complete on the
   * server: its outcome is unknown, which a 503 says). Outside a scope: `work` itself, no timer.
   */
  bound<T>(work: Promise<T>): Promise<T> {
    const scope = this.scopes.getStore();
    if (!scope) return work;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DeadlineError(scope.budget)),
        Math.max(0, deadlineOf(scope, Date.now()) - Date.now()),
      );
    });
    // Whichever loses settles later: nothing may be left unhandled.
    work.catch(() => {});
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  }

  /**
   * A WAIT timeout that ends before the deadline: durability.timeout, or less when less is left
   * (minus WAIT_TICK_MS). 0 when no WAIT fits (never sent then: WAIT 0 would block without end).
   */
  waitTimeout(timeout: number): number {
    const left = this.remaining();
    if (!Number.isFinite(left)) return timeout;
    return Math.max(0, Math.min(timeout, Math.floor(left - WAIT_TICK_MS)));
  }
}

/** The scope's deadline as of `now`: while the clock is stopped, it moves with the time. */
function deadlineOf(scope: Scope, now: number): number {
  return scope.pausedAt === undefined ? scope.at : scope.at + (now - scope.pausedAt);
}

/** Process-wide, like the durability ledger: the plugin enters it, the store reads it. */
export const deadlines = new RequestDeadlines();
