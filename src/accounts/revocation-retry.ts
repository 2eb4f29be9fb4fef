import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '../errors';
import type { SessionService } from '../session';
import { deadlines } from '../store/deadline';
import type { RevokeReason } from '../session/events';
import type { AuthEvents, CredentialChange } from './events';

/** The sessions a credential change that is already written must end (SessionService.revokeAll). */
export interface CredentialRevocation {
  readonly change: CredentialChange;
  readonly userId: string;
  readonly reason: RevokeReason;
  /** The session that made the change and stays (a password change's own). */
  readonly exceptId?: string;
  /** The user's new credential version: the epoch no older session or series may be made below. */
  readonly epoch?: number;
}

/** What a change does once its sessions ended: its audit event, hook and notice. */
type Done = (ended: string[]) => void | Promise<void>;

/** How long the background waits between attempts. */
export const REVOCATION_RETRY_MS = 1000;

/**
 * Ends the sessions of a credential change whose new credential is already written (ADR 272). A
 * new password, a disable or a delete lives in the user store and cannot be taken back; when the
 * session store then fails to end the user's older sessions (an outage, the request's deadline),
 * the request still answers 503, and this keeps trying in the background, every retryMs, until the
 * store takes it or the node stops. Only then does `done` run: the audit event and notice the
 * change would have had. Without it an attacker's session outlived the password that was changed
 * to shut them out. Lost if the process dies meanwhile (the ADR says what covers that).
 */
export class RevocationRetry {
  private readonly pending = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly sessions: SessionService,
    private readonly events: AuthEvents,
    private readonly retryMs = REVOCATION_RETRY_MS,
  ) {}

  /**
   * Ends the sessions, then runs `done` with the ended ids (the change's event, hook, notice) and
   * answers them. When the store is away: throws its StoreUnavailableError as usual and goes on
   * in the background; `done` runs once that lands.
   */
  async revoke(r: CredentialRevocation, done: Done): Promise<string[]> {
    let ended: string[];
    try {
      ended = await this.attempt(r);
    } catch (err) {
      if (err instanceof StoreUnavailableError && !this.stopping.signal.aborted)
        this.retry(r, done);
      throw err;
    }
    await done(ended);
    return ended;
  }

  /** Resolves once nothing is left to retry (tests; a stopping node waits within its timeout). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Gives up what is left (recorded as abandoned): the node is stopping. */
  stop(): void {
    this.stopping.abort();
  }

  private attempt(r: CredentialRevocation): Promise<string[]> {
    return this.sessions.revokeAll(r.userId, r.reason, r.exceptId, r.epoch);
  }

  private retry(r: CredentialRevocation, done: Done) {
    const { change, userId } = r;
    this.events.record('revocationDeferred', { change, userId });
    // Outside the request's deadline (spent by now), or every attempt would fail at once.
    const run = deadlines.detached(async () => {
      const { signal } = this.stopping;
      let attempts = 1;
      for (;;) {
        // Unref'd: the retry never keeps a process alive that has nothing else to do.
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: `ref: false` is asserted in a process of its own, which the mutant switch does not reach; `signal` only makes stop() prompt (a stopped retry attempts nothing either way).
        await sleep(this.retryMs, undefined, { signal, ref: false }).catch(() => undefined);
        if (signal.aborted) break;
        attempts++;
        let ended: string[];
        try {
          ended = await this.attempt(r);
        } catch (err) {
          if (err instanceof StoreUnavailableError) continue;
          this.events.record('revocationAbandoned', { change, userId, attempts, error: err });
          return;
        }
        this.events.record('revocationFinished', { change, userId, attempts });
        await done(ended);
        return;
      }
      this.events.record('revocationAbandoned', { change, userId, attempts });
    });
    this.pending.add(run);
    // `done` is the callers' audit and hooks, which record their own failures.
    void run.catch(() => undefined).finally(() => this.pending.delete(run));
  }
}
