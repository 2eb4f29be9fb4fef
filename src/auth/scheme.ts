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
  /**
   * The user's roles, read from the user store for this request, on routes whose auth settings
   * name a scope (what hapi checks against `auth.scope`); absent elsewhere, where reading them
   * would cost a store read on every request (ADR 086).
   */
  readonly scope?: string[];
}

/** Where a browser without a session goes instead of a 401 (like @hapi/cookie's redirectTo). */
export interface RedirectOptions {
  /** A path on this site: the login page. */
  readonly to: string;
  /** The query parameter that carries the page asked for (appendNext); false for none. */
  readonly appendNext: string | false;
}

export interface SchemeOptions {
  readonly sessions: SessionService;
  readonly cookies: CookieNames;
  readonly events: AuthEvents;
  /** Whose X-Forwarded-For is believed (http.trustedProxies). */
  readonly trustedProxies: TrustedProxies;
  /** The user's roles now (AccountService.rolesOf): made into `credentials.scope`. */
  readonly roles?: (userId: string) => Promise<readonly string[]>;
  /** Redirect HTML GETs without a session (off when false or absent). */
  readonly redirect?: RedirectOptions | false;
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
  const { sessions, cookies, events, trustedProxies, roles, redirect } = options;
  /** Credentials with the user's roles as scope when this route checks a scope. */
  const credentials = async (request: Request, session: StoredSession) => {
    const c: HoldfastCredentials = { user: { id: session.userId }, session };
    return roles && checksScope(request) ? { ...c, scope: [...(await roles(session.userId))] } : c;
  };
  return {
    async authenticate(request: Request, h: ResponseToolkit) {
      const raw = request.state[cookies.session];
      const a = await sessions.authenticate(typeof raw === 'string' ? raw : undefined);
      if (a.result === 'ok') {
        return h.authenticated({ credentials: await credentials(request, a.session) });
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
          return h.authenticated({
            credentials: { ...(await credentials(request, s)), remembered: true },
          });
        }
        // 'theft': the session service revoked the series and every session and emitted the
        // event (the plugin forwards it to AuthEvents); here the cookie just goes.
        h.unstate(cookies.remember);
      }
      const to = redirect ? redirectTarget(request, redirect) : null;
      if (to !== null) return h.response().redirect(to).takeover();
      throw Boom.unauthorized(null, SCHEME);
    },
  };
}

/** Whether hapi will check a scope on this route (its own or the default auth settings). */
export function checksScope(request: Request): boolean {
  const auth = (
    request.server.auth as unknown as {
      lookup(route: Request['route']): { access?: { scope?: unknown }[] } | false;
    }
  ).lookup(request.route);
  return !!auth && !!auth.access?.some((a) => !!a.scope);
}

/**
 * The login page for a browser that asked for an HTML page of a route that requires a session;
 * null for everything else: API and script clients (no text/html in Accept), other methods,
 * `try`/`optional` routes, Holdfast's JSON API, and routes that opt out with
 * `plugins: { holdfast: { redirectTo: false } }`.
 */
function redirectTarget(request: Request, options: RedirectOptions): string | null {
  if (request.auth.mode !== 'required') return null;
  if (request.method !== 'get' && request.method !== 'head') return null;
  if (!acceptsHtml(request.headers.accept as string | undefined)) return null;
  const settings = request.route.settings;
  const plugins = settings.plugins as { holdfast?: { redirectTo?: boolean } } | undefined;
  if (plugins?.holdfast?.redirectTo === false) return null;
  // Stryker disable next-line ArrayDeclaration: equivalent. Any array without 'api' in it answers the same as an empty one.
  if (request.route.realm.plugin === 'holdfast' && (settings.tags ?? []).includes('api'))
    return null;
  if (!options.appendNext) return options.to;
  const next = safeNext(request.url.pathname + request.url.search);
  if (next === null) return options.to;
  // auth.redirectTo holds no query (the settings and plugin schemas refuse `?`), so `?` starts it.
  return `${options.to}?${options.appendNext}=${encodeURIComponent(next)}`;
}

/** Browsers put text/html in Accept for a page; fetch() and API clients do not (q=0 refuses). */
function acceptsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (type !== 'text/html') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

const UNSAFE_CHAR = /[^\x21-\x7e]|\\/;

/**
 * `next` as a same-site path, or null. Only a path that starts with one `/` survives: never
 * `//host` or `/\host` (browsers read `\` as `/`), an absolute URL, a control character or space
 * (browsers drop tab and newline, so `/<TAB>/host` would become `//host`), non-ASCII, or any of
 * these hidden behind one more level of percent-encoding (`/%2F%2Fhost`, `/%5Chost`) for a hop
 * that decodes again. The URL parser has the last word: the result must stay on this origin.
 */
export function safeNext(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_NEXT_LENGTH) return null;
  if (!value.startsWith('/') || value.startsWith('//') || UNSAFE_CHAR.test(value)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return null;
  }
  if (decoded.startsWith('//') || /[\u0000-\u001f\u007f\\]/.test(decoded)) return null;
  const base = 'http://next.invalid';
  // Stryker disable next-line ConditionalExpression,EqualityOperator: defence in depth; no value that passes the checks above is known to leave the origin here, so a mutant of this line survives.
  return new URL(value, base).origin === base ? value : null;
}

/** Longer `next` values are dropped (the login page still works, it just lands on /account). */
export const MAX_NEXT_LENGTH = 2048;
