import Boom from '@hapi/boom';
import type { Request, ResponseToolkit, ServerAuthSchemeObject } from '@hapi/hapi';
import type { SessionService } from '../session';
import type { StoredSession } from '../store/engine';
import { clientInfo, TrustedProxies } from './client';
import type { CookieNames } from './cookies';
import type { AuthEvents } from '../accounts';

/** What `request.auth.credentials` holds on a Holdfast route. */
export interface HoldfastCredentials {
  readonly user: { readonly id: string };
  /** The live session (its `secretHash` is a hash, but still never put it in a response). */
  readonly session: StoredSession;
  /** Set when this request was authenticated by a remember-me cookie (a fresh session). */
  readonly remembered?: boolean;
}

export interface SchemeOptions {
  readonly sessions: SessionService;
  readonly cookies: CookieNames;
  readonly events: AuthEvents;
  /** Whose X-Forwarded-For is believed (http.trustedProxies). */
  readonly trustedProxies: TrustedProxies;
}

export const SCHEME = 'holdfast';

/**
 * The auth scheme: the session cookie is checked with one store read (and a renewal write when
 * due). Without a valid session, a remember-me cookie starts a fresh session and rotates its
 * token. "No session" is always `isMissing` (hapi's try/optional modes see a plain anonymous
 * request); a store outage throws StoreUnavailableError, which the plugin answers with 503:
 * an outage never logs anyone out.
 */
export function holdfastScheme(options: SchemeOptions): ServerAuthSchemeObject {
  const { sessions, cookies, events, trustedProxies } = options;
  return {
    async authenticate(request: Request, h: ResponseToolkit) {
      const raw = request.state[cookies.session];
      const a = await sessions.authenticate(typeof raw === 'string' ? raw : undefined);
      if (a.result === 'ok') {
        return h.authenticated({ credentials: credentials(a.session) });
      }
      if (raw !== undefined) h.unstate(cookies.session);

      const remember = request.state[cookies.remember];
      if (remember !== undefined) {
        const client = clientInfo(request, trustedProxies);
        const use = await sessions.useRemember(
          typeof remember === 'string' ? remember : undefined,
          client,
        );
        if (use.result === 'ok') {
          h.state(cookies.session, use.issued.token);
          if (use.rememberToken) h.state(cookies.remember, use.rememberToken);
          const s = use.issued.session;
          events.record('login', {
            userId: s.userId,
            sessionId: s.id,
            method: 'remember',
            remember: true,
            ip: client.ip,
          });
          return h.authenticated({ credentials: { ...credentials(s), remembered: true } });
        }
        // 'theft': the session service revoked the series and every session and emitted the
        // event (the plugin forwards it to AuthEvents); here the cookie just goes.
        h.unstate(cookies.remember);
      }
      throw Boom.unauthorized(null, SCHEME);
    },
  };
}

function credentials(session: StoredSession): HoldfastCredentials {
  return { user: { id: session.userId }, session };
}
