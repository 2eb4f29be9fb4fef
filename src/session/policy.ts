import type { Settings } from '../config';
import type { StoredSession } from '../store/engine';

/** Lifetime rules, separate from storage (catbox's policy/engine split). All times in ms. */
export class SessionPolicy {
  constructor(private readonly s: Settings['session']) {}

  get maxPerUser(): number {
    return this.s.maxPerUser;
  }
  get maxRememberPerUser(): number {
    return this.s.maxRememberPerUser;
  }
  get rememberTtl(): number {
    return this.s.rememberTtl;
  }
  get rememberGrace(): number {
    return this.s.rememberGrace;
  }

  /** Deadlines of a session that starts now. */
  initial(now: number): { expiresAt: number; absoluteExpiresAt: number } {
    const absoluteExpiresAt = now + this.s.absoluteTtl;
    return { expiresAt: Math.min(now + this.s.idleTtl, absoluteExpiresAt), absoluteExpiresAt };
  }

  /**
   * The new idle deadline when a renewal write is due, else null. Throttled: at most one write per
   * `renewAfter`, and never past the absolute lifetime.
   */
  renewal(s: StoredSession, now: number): number | null {
    if (now - s.lastSeenAt < this.s.renewAfter) return null;
    const next = Math.min(now + this.s.idleTtl, s.absoluteExpiresAt);
    return next > s.expiresAt ? next : null;
  }
}
