import { hkdfSync } from 'node:crypto';
import type { Server, ServerStateCookieOptions } from '@hapi/hapi';
import type { Settings } from '../config';

export interface CookieNames {
  readonly session: string;
  readonly remember: string;
}

/**
 * A cookie's name as set: `__Host-` in front whenever it is Secure, so the browser refuses it
 * from any other path or domain. Every Holdfast cookie is named through this.
 */
export function hostPrefixed(c: { readonly secure: boolean }, name: string): string {
  return c.secure ? `__Host-${name}` : name;
}

export function cookieNames(s: Settings['cookie']): CookieNames {
  return { session: hostPrefixed(s, s.name), remember: hostPrefixed(s, s.rememberName) };
}

/** What a key derived from cookie.password is for; a new version of a use is a new key. */
export type CookieKeyPurpose = 'csrf-crumb-v1' | 'oauth-state-v1' | 'oauth-intent-v1';

/**
 * A 32-byte key for one purpose, derived from cookie.password by HKDF-SHA-256 (salt "holdfast",
 * the purpose as info): operators manage one secret, each use has its own key. Derive once at
 * start, never per request.
 */
export function cookiePasswordKey(password: string, purpose: CookieKeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', password, 'holdfast', purpose, 32));
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
