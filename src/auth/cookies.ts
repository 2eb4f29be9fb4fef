import type { Server, ServerStateCookieOptions } from '@hapi/hapi';
import type { Settings } from '../config';

export interface CookieNames {
  readonly session: string;
  readonly remember: string;
}

/** `__Host-` whenever the cookie is Secure: the browser then refuses it from any other path or domain. */
export function cookieNames(s: Settings['cookie']): CookieNames {
  const prefix = s.secure ? '__Host-' : '';
  return { session: prefix + s.name, remember: prefix + s.rememberName };
}

/** The options both cookies share: opaque values, no iron, no signature (see ADR 002). */
function base(s: Settings['cookie']): ServerStateCookieOptions {
  return {
    encoding: 'none',
    isHttpOnly: true,
    isSecure: s.secure,
    isSameSite: s.sameSite,
    path: '/',
    // Stryker disable next-line BooleanLiteral: equivalent. A value strict parsing refuses can never be a token (parseToken refuses it as well), and every value set here is strict-valid.
    strictHeader: true,
    // A malformed cookie is just "no session", never a 400 for the whole request.
    ignoreErrors: true,
    clearInvalid: true,
  };
}

/**
 * Declares the session cookie (a browser-session cookie: it ends with the browser, the server
 * enforces the idle and absolute deadlines) and the remember-me cookie (lives rememberTtl).
 */
export function defineCookies(server: Server, settings: Settings): CookieNames {
  const names = cookieNames(settings.cookie);
  server.state(names.session, { ...base(settings.cookie), ttl: null });
  server.state(names.remember, { ...base(settings.cookie), ttl: settings.session.rememberTtl });
  return names;
}
