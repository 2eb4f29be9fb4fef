import { EventEmitter } from 'node:events';
import type { AuthMethod } from '../store/engine';

export type RevokeReason =
  'logout' | 'revoke' | 'password' | 'theft' | 'admin' | 'evicted' | 'rotation';
export type AuthResult = 'ok' | 'missing' | 'invalid' | 'unavailable';

/** What the session service tells metrics and logs. Never carries a token or secret. */
export interface SessionEventMap {
  created: [{ userId: string; sessionId: string; method: AuthMethod }];
  revoked: [{ userId: string; sessionIds: readonly string[]; reason: RevokeReason }];
  theft: [{ userId: string; seriesId: string }];
  /** Every session and series of every user ended by an operator (counts only). */
  revokedEveryone: [{ sessions: number; series: number }];
  /** A background renewal failed with an error that is not an outage (a bug): for the log. */
  renewalFailed: [{ sessionId: string; error: unknown }];
}

/** Plain counters (catbox `stats`), cheap enough for the per-request path; metrics/ exports them. */
export interface SessionStats {
  created: Record<AuthMethod, number>;
  revoked: Record<RevokeReason, number>;
  auth: Record<AuthResult, number>;
  renewals: number;
  thefts: number;
}

export function emptyStats(): SessionStats {
  return {
    created: { password: 0, remember: 0, oauth: 0, rotation: 0 },
    revoked: { logout: 0, revoke: 0, password: 0, theft: 0, admin: 0, evicted: 0, rotation: 0 },
    auth: { ok: 0, missing: 0, invalid: 0, unavailable: 0 },
    renewals: 0,
    thefts: 0,
  };
}

export class SessionEvents extends EventEmitter<SessionEventMap> {}
