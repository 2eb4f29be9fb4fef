import type { Request } from '@hapi/hapi';
import type { SessionService } from '../session';
import { checksScope, HoldfastCredentials } from './scheme';

/**
 * For teams already on @hapi/cookie: Holdfast as their strategy's `validate`. Their cookie
 * (iron-sealed by @hapi/cookie) holds `{ token }`, the opaque Holdfast session token, and
 * validation is a Holdfast session check, so sessions are shared across nodes, listed and revoked
 * like native ones. `sessionToken()` is what to put into `request.cookieAuth.set()` at login.
 *
 *   server.auth.strategy('session', 'cookie', {
 *     cookie: { name: 'sid', password, isSecure: true },
 *     validate: holdfastCookieValidate(sessions, { roles: (id) => accounts.rolesOf(id) }),
 *   });
 *
 * With `roles`, credentials carry `scope` (the user's roles, read now) on routes that check a
 * scope, as with the native scheme (ADR 086).
 *
 * A store outage throws (hapi answers 500 from @hapi/cookie, or 503 with the Holdfast plugin's
 * error mapping registered); it never returns `isValid: false`, which would log the user out.
 */
export interface CookieSessionValue {
  readonly token: string;
}

export function sessionToken(token: string): CookieSessionValue {
  return { token };
}

export interface CookieValidateOptions {
  /** The user's roles now (AccountService.rolesOf): made into `credentials.scope`. */
  readonly roles?: (userId: string) => Promise<readonly string[]>;
}

export function holdfastCookieValidate(
  sessions: SessionService,
  options: CookieValidateOptions = {},
) {
  return async (
    request: Request,
    value: unknown,
  ): Promise<{ isValid: boolean; credentials?: HoldfastCredentials }> => {
    const token = (value as Partial<CookieSessionValue> | null)?.token;
    const a = await sessions.authenticate(typeof token === 'string' ? token : undefined);
    if (a.result !== 'ok') return { isValid: false };
    const credentials: HoldfastCredentials = { user: { id: a.session.userId }, session: a.session };
    if (!options.roles || !checksScope(request)) return { isValid: true, credentials };
    return {
      isValid: true,
      credentials: { ...credentials, scope: [...(await options.roles(a.session.userId))] },
    };
  };
}
