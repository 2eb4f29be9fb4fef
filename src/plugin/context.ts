import type { Request, ResponseToolkit } from '@hapi/hapi';
import type { AccountService, AuthEvents, EmailVerification, PasswordReset } from '../accounts';
import { clientInfo, CookieNames, HoldfastCredentials, TrustedProxies } from '../auth';
import type { Settings } from '../config';
import { HoldfastError } from '../errors';
import type { ClientInfo, IssuedSession, SessionService } from '../session';
import type { StoredSession } from '../store/engine';
import type { UserStore } from '../users';
import type { Csrf } from './csrf';
import type { OAuthIntents } from './oauth-intent';

/** An OAuth provider as the routes, pages and OpenAPI document see it. */
export interface OAuthProviderInfo {
  readonly name: string;
  /** The button text ("GitHub"). */
  readonly label: string;
  /** The route that starts sign-in and receives the provider's callback. */
  readonly path: string;
}

/** Everything the routes share, built once at registration. */
export interface PluginContext {
  readonly settings: Settings;
  readonly sessions: SessionService;
  readonly users: UserStore;
  readonly accounts: AccountService;
  readonly events: AuthEvents;
  readonly cookies: CookieNames;
  readonly csrf: Csrf;
  /** Whose X-Forwarded-For is believed (http.trustedProxies). */
  readonly trustedProxies: TrustedProxies;
  /** The OAuth providers registered (none unless configured). */
  readonly oauth: readonly OAuthProviderInfo[];
  /** Link and re-authentication round trips started from /account. */
  readonly intents: OAuthIntents;
  /** Password reset, when mail is on (createServices builds it); null: not offered. */
  readonly passwordReset: PasswordReset | null;
  /** Email verification; null when mail is off (its routes are not served then). */
  readonly verification: EmailVerification | null;
}

export function client(ctx: PluginContext, request: Request): ClientInfo {
  return clientInfo(request, ctx.trustedProxies);
}

/** The caller's credentials on an `optional`/`try` route; an auth failure other than "no session" is rethrown. */
export function credentialsOf(request: Request): HoldfastCredentials | null {
  // In `try` mode hapi swallows every auth error: an outage (or a bug) must still surface as
  // 503/500, never as "signed out". Only a 401 (no valid session) means anonymous.
  const err = request.auth.error as
    (Error & { output?: { statusCode: number } }) | null | undefined;
  if (err && err.output?.statusCode !== 401) throw err;
  return request.auth.isAuthenticated
    ? (request.auth.credentials as unknown as HoldfastCredentials)
    : null;
}

/** The caller's live session on an `optional`/`try` route, null when anonymous. */
export function sessionOf(request: Request): StoredSession | null {
  return credentialsOf(request)?.session ?? null;
}

export function requireCredentials(request: Request): HoldfastCredentials {
  const c = credentialsOf(request);
  if (!c) throw new HoldfastError('HF_UNAUTHENTICATED', 'no valid session: log in first');
  return c;
}

export function setSessionCookie(
  ctx: PluginContext,
  h: ResponseToolkit,
  issued: IssuedSession,
): void {
  h.state(ctx.cookies.session, issued.token);
}

export function clearCookies(ctx: PluginContext, h: ResponseToolkit): void {
  h.unstate(ctx.cookies.session);
  h.unstate(ctx.cookies.remember);
}

export interface SessionView {
  readonly id: string;
  readonly current: boolean;
  readonly method: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
  readonly absoluteExpiresAt: string;
  readonly ip: string;
  readonly userAgent: string;
}

/** A session as a response shows it: never the secret hash. */
export function sessionView(s: StoredSession, currentId: string): SessionView {
  return {
    id: s.id,
    current: s.id === currentId,
    method: s.method,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeenAt: new Date(s.lastSeenAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    absoluteExpiresAt: new Date(s.absoluteExpiresAt).toISOString(),
    ip: s.ip,
    userAgent: s.userAgent,
  };
}
