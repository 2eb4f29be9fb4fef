import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, ResponseToolkit, Server } from '@hapi/hapi';
import { cookiePasswordKey, hostPrefixed } from '../auth/cookies';
import type { Settings } from '../config';

/** How long a started sign-in (bell's state cookie) or link (the intent cookie) may take. */
export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;

/** What a provider round trip started from /account is for (a plain sign-in has no intent). */
export type IntentMode = 'link' | 'reauth';

export interface OAuthIntent {
  /** Also in the query of the start request, which bell keeps in its sealed state. */
  readonly nonce: string;
  readonly mode: IntentMode;
  readonly provider: string;
  /** The Holdfast session that started it: the callback must come with the same one. */
  readonly sessionId: string;
  readonly expiresAt: number;
}

const MODES: readonly IntentMode[] = ['link', 'reauth'];
const NONCE = /^[A-Za-z0-9_-]{22}$/;

/**
 * The intent of a provider round trip started by a signed-in user (link a provider, or confirm
 * it is them), carried in a short-lived HttpOnly cookie with an HMAC under a key derived once
 * from cookie.password: `<nonce>.<mode>.<provider>.<sessionId>.<expiresAt>.<mac>`. Never in a
 * query parameter alone: the callback acts on it only when the cookie verifies, names this
 * provider and the browser's current session, and its nonce equals the one bell sealed into its
 * state when this very round trip started. A sign-in started without the nonce ignores it.
 */
export class OAuthIntents {
  readonly cookie: string;
  private readonly key: Buffer;

  constructor(
    server: Server,
    settings: Settings,
    private readonly clock: () => number = Date.now,
  ) {
    const c = settings.cookie;
    this.cookie = hostPrefixed(c, `${c.name}_oauth_intent`);
    this.key = cookiePasswordKey(c.password as string, 'oauth-intent-v1');
    server.state(this.cookie, {
      encoding: 'none',
      isHttpOnly: true,
      isSecure: c.secure,
      // Lax: the provider's redirect back is a cross-site top-level GET.
      isSameSite: 'Lax',
      path: '/',
      ttl: OAUTH_STATE_TTL_MS,
      strictHeader: true,
      ignoreErrors: true,
      clearInvalid: true,
    });
  }

  /** Sets the intent cookie; returns the path that starts the round trip. */
  issue(h: ResponseToolkit, mode: IntentMode, provider: string, sessionId: string): string {
    const nonce = randomBytes(16).toString('base64url');
    const body = [nonce, mode, provider, sessionId, this.clock() + OAUTH_STATE_TTL_MS].join('.');
    h.state(this.cookie, `${body}.${this.mac(body)}`);
    return `/auth/oauth/${provider}?intent=${nonce}`;
  }

  /** The verified, unexpired intent of this request's cookie, or null. */
  read(request: Request): OAuthIntent | null {
    const raw = request.state[this.cookie];
    if (typeof raw !== 'string' || raw.length > 256) return null;
    const cut = raw.lastIndexOf('.');
    if (cut < 0) return null;
    const body = raw.slice(0, cut);
    const given = Buffer.from(raw.slice(cut + 1));
    const expected = Buffer.from(this.mac(body));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const [nonce, mode, provider, sessionId, expires, ...rest] = body.split('.');
    const expiresAt = Number(expires);
    if (rest.length || !NONCE.test(nonce ?? '') || !MODES.includes(mode as IntentMode)) return null;
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= this.clock()) return null;
    return { nonce, mode: mode as IntentMode, provider, sessionId, expiresAt };
  }

  clear(h: ResponseToolkit): void {
    h.unstate(this.cookie);
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
