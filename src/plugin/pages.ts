import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  Request,
  ResponseObject,
  ResponseToolkit,
  RouteOptions,
  Server,
  ServerRealm,
  ServerRoute,
} from '@hapi/hapi';
import type { Boom } from '@hapi/boom';
import type { Settings } from '../config';
import Vision from '@hapi/vision';
import Handlebars from 'handlebars';
import { safeNext, SCHEME } from '../auth';
import type { HoldfastCredentials } from '../auth';
import { HoldfastError } from '../errors';
import { SESSION_ID } from '../session';
import { publicUser } from '../users';
import {
  AccountTokenInvalidError,
  deleteOwnAccount,
  readableWindow,
  ReauthRequiredError,
} from '../accounts';
import { MAX_BODY_BYTES, RESET_REQUESTED } from './api';
import type { PluginContext } from './context';
import {
  clearCookies,
  client,
  credentialsOf,
  sessionOf,
  sessionView,
  setSessionCookie,
} from './context';
import { CRUMB_ROUTE } from './csrf';
import { retryAfterSeconds, toBoom } from './errors';

/** Pages say what they may load and who may frame them: nothing from elsewhere, nobody. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const CSP = PAGE_CSP;

/** hapi's security headers on every page (and the OAuth routes a browser visits). */
export const PAGE_SECURITY = (settings: Settings) =>
  ({
    hsts: settings.cookie.secure,
    xframe: 'deny',
    noSniff: true,
    referrer: 'same-origin',
    noOpen: true,
    xss: 'disabled',
  }) as const;

/**
 * A page a mailed link opens, its token in the URL (verification, reset): Referrer-Policy
 * strict-origin, so a Referer carries the origin only and the token goes nowhere. Not
 * no-referrer: under it browsers post the page's form with `Origin: null`, which the CSRF check
 * rightly refuses (found by test/e2e/browser/verify-email.test.ts).
 */
const TOKEN_PAGE_SECURITY = (settings: Settings) =>
  ({ ...PAGE_SECURITY(settings), referrer: 'strict-origin' }) as const;

type Form = Record<string, string | undefined>;

/**
 * A page path under the plugin's route prefix (`server.register({ plugin, routes: { prefix } })`):
 * every link, form action, redirect and asset URL of the pages goes through it, so the pages work
 * wherever the host app mounts them. `realm` is the plugin's (h.realm in a handler or extension).
 */
export function pagePath(realm: ServerRealm, path: string): string {
  return (realm.modifiers.route.prefix ?? '') + path;
}

/** The provider buttons link to the sign-in routes under the same prefix. */
const prefixed = <T extends { path: string }>(realm: ServerRealm, list: readonly T[]) =>
  list.map((p) => ({ ...p, path: pagePath(realm, p.path) }));

/** Login failures the login page shows in place (the message says what to do). */
const LOGIN_PAGE_ERRORS: readonly string[] = [
  'HF_LOGIN_FAILED',
  'HF_EMAIL_UNVERIFIED',
  'HF_LOGIN_THROTTLED',
  'HF_CREDENTIALS_CHANGED',
  'HF_ACCOUNT_DISABLED',
  'HF_LOGIN_REFUSED',
  'HF_BUSY',
];

/** The login page showing an error (a failed OAuth sign-in lands here). */
export function renderLogin(
  h: ResponseToolkit,
  ctx: PluginContext,
  error: string,
  code: number,
): ResponseObject {
  return h
    .view('login', {
      title: 'Log in',
      base: pagePath(h.realm, ''),
      signedIn: false,
      crumb: '',
      providers: prefixed(h.realm, ctx.oauth),
      resetOffered: !!ctx.passwordReset,
      error,
    })
    .code(code)
    .header('content-security-policy', CSP);
}

/**
 * Server-rendered pages (no JavaScript needed): /login, /register, /account, /logout, and the
 * form posts behind them. Every POST is checked for Origin, and the forms of a signed-in user for
 * their crumb, before the handler runs (csrf.ts).
 */
export async function registerPages(server: Server, ctx: PluginContext): Promise<void> {
  const { accounts, csrf, sessions, settings } = ctx;
  await server.register(Vision, { once: true });
  server.views({
    engines: { hbs: Handlebars.create() },
    relativeTo: __dirname,
    path: 'views',
    layout: true,
    layoutPath: 'views/layout',
    isCached: settings.env === 'production',
  });
  const css = readFileSync(join(__dirname, 'public', 'holdfast.css'));
  const nextParam = settings.auth.appendNext || 'next';
  const base = pagePath(server.realm, '');
  const at = (path: string) => pagePath(server.realm, path);
  // The sign-in buttons of the configured OAuth providers.
  const providers = prefixed(server.realm, ctx.oauth);

  const page = (mode: 'optional' | false, extra: RouteOptions = {}): RouteOptions => ({
    auth: mode ? { strategy: SCHEME, mode } : false,
    cache: { privacy: 'private', otherwise: 'no-cache, no-store' },
    state: { parse: true, failAction: 'log' },
    security: PAGE_SECURITY(settings),
    tags: ['holdfast', 'holdfast-page'],
    ...extra,
  });
  const form = {
    allow: 'application/x-www-form-urlencoded',
    maxBytes: MAX_BODY_BYTES,
    output: 'data',
    parse: true,
  } as const;
  /** A form post of a signed-in user: its crumb is checked in the pipeline. */
  const signedInForm = page('optional', { payload: form, plugins: CRUMB_ROUTE });
  const render = (h: ResponseToolkit, template: string, context: object, code = 200) =>
    h.view(template, context).code(code).header('content-security-policy', CSP);
  const layoutCtx = (c: HoldfastCredentials | null, title: string) => ({
    title,
    base,
    signedIn: !!c,
    crumb: c ? csrf.crumb(c.session.id) : '',
    resetOffered: !!ctx.passwordReset,
  });

  async function accountPage(
    _r: Request,
    h: ResponseToolkit,
    c: HoldfastCredentials,
    extra: object = {},
    code = 200,
  ) {
    const user = await ctx.users.findById(c.user.id);
    if (!user)
      throw new HoldfastError('HF_UNAUTHENTICATED', 'the account of this session no longer exists');
    const crumb = csrf.crumb(c.session.id);
    const linked = new Set((await accounts.identities(user.id)).map((i) => i.provider));
    const list = (await sessions.list(c.user.id)).map((s) => {
      const v = sessionView(s, c.session.id);
      return {
        ...v,
        createdText: readableTime(v.createdAt),
        lastSeenText: readableTime(v.lastSeenAt),
        rowClass: v.current ? 'current' : '',
        crumb,
      };
    });
    // Unlinking is offered only where it leaves a way to sign in (the service checks it again).
    const canUnlink = !!user.passwordHash || linked.size > 1;
    const providerRows = providers.map((p) => ({
      ...p,
      linked: linked.has(p.name),
      canUnlink,
      crumb,
    }));
    return render(
      h,
      'account',
      {
        ...layoutCtx(c, 'Your account'),
        user: publicUser(user),
        sessions: list,
        minLength: settings.password.minLength,
        hasPassword: !!user.passwordHash,
        recent: accounts.isRecent(c.session),
        reauthFor: readableWindow(settings.auth.reauthWindow),
        providerRows,
        reauthProviders: providerRows.filter((p) => p.linked),
        canResend: !user.emailVerified && !!ctx.verification,
        ...extra,
      },
      code,
    );
  }

  /**
   * Email verification pages (ADR 145), when mail is on. The mailed link opens GET /verify-email,
   * which only shows a button: mail scanners fetch links, so a GET never uses the token; the
   * button posts it (TOKEN_PAGE_SECURITY).
   */
  function verificationPages(): ServerRoute[] {
    const verification = ctx.verification;
    if (!verification) return [];
    const originOnly = TOKEN_PAGE_SECURITY(settings);
    const show = (h: ResponseToolkit, c: HoldfastCredentials | null, extra: object, code = 200) =>
      render(h, 'verify-email', { ...layoutCtx(c, 'Confirm your email address'), ...extra }, code);
    return [
      {
        method: 'GET',
        path: '/verify-email',
        options: page('optional', { security: originOnly }),
        handler: (r, h) => {
          const token = typeof r.query.token === 'string' ? r.query.token.slice(0, 200) : '';
          return show(h, credentialsOf(r), { token });
        },
      },
      {
        method: 'POST',
        path: '/verify-email',
        options: page('optional', { payload: form, security: originOnly }),
        handler: async (r, h) => {
          const c = credentialsOf(r);
          const f = (r.payload ?? {}) as Form;
          try {
            await verification.verify(String(f.token ?? ''), c?.user.id);
          } catch (err) {
            if (!(err instanceof HoldfastError) || err.code !== 'HF_ACCOUNT_TOKEN_INVALID')
              throw err;
            return show(h, c, { error: err.message }, toBoom(err).output.statusCode);
          }
          return show(h, c, { verified: true });
        },
      },
      {
        method: 'POST',
        path: '/verify-email/send',
        options: page('optional', { payload: form }),
        handler: async (r, h) => {
          const f = (r.payload ?? {}) as Form;
          const email = String(f.email ?? '').slice(0, 1024);
          const ctxLogin = { ...layoutCtx(null, 'Log in'), email, providers };
          try {
            await verification.resend({ email }, client(ctx, r).ip);
          } catch (err) {
            if (!(err instanceof HoldfastError) || err.code !== 'HF_VERIFY_THROTTLED') throw err;
            return withRetryAfter(
              render(h, 'login', { ...ctxLogin, error: err.message }, 429),
              err,
            );
          }
          return render(h, 'login', { ...ctxLogin, notice: LOGIN_NOTICES['verify-sent'] });
        },
      },
      {
        method: 'POST',
        path: '/account/verify-email/send',
        options: signedInForm,
        handler: async (r, h) => {
          const c = credentialsOf(r);
          if (!c) return h.redirect(at('/login')).code(303);
          try {
            await verification.resend({ userId: c.user.id }, client(ctx, r).ip);
          } catch (err) {
            if (!(err instanceof HoldfastError) || err.code !== 'HF_VERIFY_THROTTLED') throw err;
            return withRetryAfter(await accountPage(r, h, c, { error: err.message }, 429), err);
          }
          return h.redirect(at('/account?done=verify-sent')).code(303);
        },
      },
    ];
  }

  server.route([
    {
      method: 'GET',
      path: '/auth/assets/holdfast.css',
      options: { auth: false, cache: { expiresIn: 3_600_000, privacy: 'public' } },
      handler: (_r, h) => h.response(css).type('text/css; charset=utf-8'),
    },
    {
      method: 'GET',
      path: '/login',
      options: page('optional'),
      handler: (r, h) => {
        // `next`: the page a redirect to login came from (auth.appendNext), kept only if same-site.
        // It is the request's whole path, so it already carries the route prefix.
        const next = safeNext(r.query[nextParam]);
        const notice = own(LOGIN_NOTICES, r.query.done);
        return credentialsOf(r)
          ? h.redirect(next ?? at('/account')).code(303)
          : render(h, 'login', {
              ...layoutCtx(null, 'Log in'),
              providers: providers,
              next,
              notice,
            });
      },
    },
    {
      method: 'POST',
      path: '/login',
      options: page('optional', { payload: form }),
      handler: async (r, h) => {
        const f = (r.payload ?? {}) as Form;
        const email = String(f.email ?? '').slice(0, 1024);
        const next = safeNext(f.next);
        try {
          const result = await accounts.login(
            { email, password: String(f.password ?? ''), remember: f.remember === 'on' },
            client(ctx, r),
            sessionOf(r),
          );
          setSessionCookie(ctx, h, result.issued);
          if (result.rememberToken) h.state(ctx.cookies.remember, result.rememberToken);
          return h.redirect(next ?? at('/account')).code(303);
        } catch (err) {
          if (!(err instanceof HoldfastError) || !LOGIN_PAGE_ERRORS.includes(err.code)) throw err;
          return withRetryAfter(
            render(
              h,
              'login',
              {
                ...layoutCtx(null, 'Log in'),
                error: err.message,
                email,
                providers,
                next,
                // The right password for an unproved address: offer the link again (ADR 145).
                resend: err.code === 'HF_EMAIL_UNVERIFIED' && !!ctx.verification,
              },
              toBoom(err).output.statusCode,
            ),
            err,
          );
        }
      },
    },
    {
      method: 'GET',
      path: '/register',
      options: page('optional'),
      handler: (r, h) =>
        credentialsOf(r)
          ? h.redirect(at('/account')).code(303)
          : render(h, 'register', {
              ...layoutCtx(null, 'Register'),
              minLength: settings.password.minLength,
              providers,
            }),
    },
    {
      method: 'POST',
      path: '/register',
      options: page('optional', { payload: form }),
      handler: async (r, h) => {
        const f = (r.payload ?? {}) as Form;
        const email = String(f.email ?? '').slice(0, 1024);
        const name = String(f.name ?? '').slice(0, 100);
        try {
          const { issued } = await accounts.register(
            { email, password: f.password, name },
            client(ctx, r),
            sessionOf(r),
          );
          // accounts.requireVerifiedEmail: no session yet; the login page says to check the mail.
          if (!issued) return h.redirect(at('/login?done=registered')).code(303);
          setSessionCookie(ctx, h, issued);
          return h.redirect(at('/account')).code(303);
        } catch (err) {
          if (!(err instanceof HoldfastError) || !REGISTER_ERRORS.includes(err.code)) throw err;
          return withRetryAfter(
            render(
              h,
              'register',
              {
                ...layoutCtx(null, 'Register'),
                error: err.message,
                email,
                name,
                minLength: settings.password.minLength,
                providers,
              },
              toBoom(err).output.statusCode,
            ),
            err,
          );
        }
      },
    },
    {
      method: 'GET',
      path: '/account',
      options: page('optional'),
      handler: async (r, h) => {
        const c = credentialsOf(r);
        if (!c) return h.redirect(at('/login')).code(303);
        const label = providers.find((p) => p.name === r.query.provider)?.label ?? 'the provider';
        const notice = own(NOTICES, r.query.done)?.(label, settings);
        const error = own(FAILURES, r.query.fail)?.(label);
        return accountPage(r, h, c, { notice, error });
      },
    },
    {
      method: 'POST',
      path: '/account/sessions/{id}/revoke',
      options: signedInForm,
      handler: async (r, h) => {
        const c = credentialsOf(r);
        if (!c) return h.redirect(at('/login')).code(303);
        const id = String(r.params.id);
        if (SESSION_ID.test(id) && id !== c.session.id) await accounts.revokeOne(c.session, id);
        return h.redirect(at('/account?done=revoked')).code(303);
      },
    },
    {
      method: 'POST',
      path: '/account/sessions/revoke-others',
      options: signedInForm,
      handler: async (r, h) => {
        const c = credentialsOf(r);
        if (!c) return h.redirect(at('/login')).code(303);
        try {
          await accounts.revokeOthers(c.session);
        } catch (err) {
          if (!(err instanceof ReauthRequiredError)) throw err;
          return accountPage(r, h, c, { error: err.message }, 403);
        }
        return h.redirect(at('/account?done=others')).code(303);
      },
    },
    {
      method: 'POST',
      path: '/account/reauth',
      options: signedInForm,
      handler: async (r, h) => {
        const c = credentialsOf(r);
        if (!c) return h.redirect(at('/login')).code(303);
        const f = (r.payload ?? {}) as Form;
        try {
          const issued = await accounts.reauthenticate(
            c.session,
            String(f.password ?? '').slice(0, settings.password.maxLength * 4),
            client(ctx, r),
          );
          setSessionCookie(ctx, h, issued);
          return h.redirect(at('/account?done=reauth')).code(303);
        } catch (err) {
          if (!(err instanceof HoldfastError) || !PASSWORD_ERRORS.includes(err.code)) throw err;
          return withRetryAfter(
            await accountPage(r, h, c, { error: err.message }, toBoom(err).output.statusCode),
            err,
          );
        }
      },
    },
    {
      method: 'POST',
      path: '/account/password',
      options: signedInForm,
      handler: async (r, h) => {
        const c = credentialsOf(r);
        if (!c) return h.redirect(at('/login')).code(303);
        const f = (r.payload ?? {}) as Form;
        try {
          const issued = await accounts.changePassword(
            c.session,
            { currentPassword: String(f.currentPassword ?? ''), newPassword: f.newPassword },
            client(ctx, r),
          );
          setSessionCookie(ctx, h, issued);
          h.unstate(ctx.cookies.remember);
          return h.redirect(at('/account?done=password')).code(303);
        } catch (err) {
          if (!(err instanceof HoldfastError) || !PASSWORD_ERRORS.includes(err.code)) throw err;
          return withRetryAfter(
            await accountPage(r, h, c, { error: err.message }, toBoom(err).output.statusCode),
            err,
          );
        }
      },
    },
    ...resetPages(ctx, {
      render,
      layoutCtx,
      at,
      page,
      form: signedInForm,
    }),
    ...verificationPages(),
    {
      method: 'POST',
      path: '/account/delete',
      options: signedInForm,
      handler: async (r, h) => {
        const c = credentialsOf(r);
        if (!c) return h.redirect(at('/login')).code(303);
        const f = (r.payload ?? {}) as Form;
        // The box is `required` in the form; a post without it (a script) deletes nothing.
        if (f.confirm !== 'yes')
          return accountPage(r, h, c, { error: 'Tick the box to confirm the deletion.' }, 400);
        try {
          await deleteOwnAccount(accounts, c.session);
        } catch (err) {
          if (!(err instanceof ReauthRequiredError)) throw err;
          return accountPage(r, h, c, { error: err.message }, 403);
        }
        clearCookies(ctx, h);
        return h.redirect(at('/login?done=deleted')).code(303);
      },
    },
    {
      method: 'GET',
      path: '/logout',
      options: page('optional'),
      handler: (r, h) => {
        const c = credentialsOf(r);
        if (!c) return h.redirect(at('/login')).code(303);
        return render(h, 'logout', layoutCtx(c, 'Log out'));
      },
    },
    {
      method: 'POST',
      path: '/logout',
      options: signedInForm,
      handler: async (r, h) => {
        const c = credentialsOf(r);
        const remember = r.state[ctx.cookies.remember];
        await accounts.logout(
          c?.session ?? null,
          typeof remember === 'string' ? remember : undefined,
        );
        clearCookies(ctx, h);
        return h.redirect(at('/login')).code(303);
      },
    },
  ]);

  // A page that fails answers a page with the same status (and Retry-After), not hapi's JSON: a
  // browser shows it as it is. Registered before mapErrors (index.ts), so it maps a HoldfastError
  // itself, with the same toBoom.
  server.ext(
    'onPreResponse',
    (r: Request, h: ResponseToolkit) => {
      const res = r.response as ResponseObject | Boom | null;
      if (!res || !('isBoom' in res) || !res.isBoom) return h.continue;
      if (!(r.route.settings.tags ?? []).includes('holdfast-page')) return h.continue;
      const boom = res instanceof HoldfastError ? toBoom(res) : res;
      const { statusCode, headers, payload } = boom.output;
      // Not credentialsOf: an auth error here must not throw again; a failed auth is signed out.
      const c = r.auth.isAuthenticated
        ? (r.auth.credentials as unknown as HoldfastCredentials)
        : null;
      const heading = own(ERROR_HEADINGS, String(statusCode)) ?? payload.error ?? 'Error';
      const retryAfter = headers['Retry-After'];
      // The stable code a JSON answer carries (HF_REQUEST_INVALID for hapi's own 4xx, as mapErrors).
      const code =
        (payload as { code?: unknown }).code ??
        (statusCode < 500
          ? statusCode === 401
            ? 'HF_UNAUTHENTICATED'
            : 'HF_REQUEST_INVALID'
          : 'HF_INTERNAL');
      const page = render(
        h,
        'error',
        { ...layoutCtx(c, heading), heading, message: payload.message, code, retryAfter },
        statusCode,
      );
      for (const [name, value] of Object.entries(headers)) page.header(name, String(value));
      return page;
    },
    { sandbox: 'plugin' },
  );
}

interface PageTools {
  readonly render: (
    h: ResponseToolkit,
    template: string,
    context: object,
    code?: number,
  ) => ResponseObject;
  readonly layoutCtx: (c: HoldfastCredentials | null, title: string) => object;
  readonly at: (path: string) => string;
  readonly page: (mode: 'optional' | false, extra?: RouteOptions) => RouteOptions;
  readonly form: RouteOptions;
}

/**
 * /forgot-password (ask for a link) and /reset-password (the emailed link's page: the token
 * arrives in the query, is sent back in the form body, and the page sends no Referer anywhere),
 * when password reset is offered (mail is on).
 */
function resetPages(ctx: PluginContext, t: PageTools): ServerRoute[] {
  const reset = ctx.passwordReset;
  if (!reset) return [];
  const { render, layoutCtx, at, page, form } = t;
  const minLength = ctx.settings.password.minLength;
  const resetPage = (extra: RouteOptions = {}) => ({
    ...page('optional', extra),
    security: TOKEN_PAGE_SECURITY(ctx.settings),
  });
  const resetView = (r: Request, context: object) => ({
    ...layoutCtx(credentialsOf(r), 'Choose a new password'),
    minLength,
    ...context,
  });
  return [
    {
      method: 'GET',
      path: '/forgot-password',
      options: page('optional'),
      handler: (r, h) =>
        render(h, 'forgot-password', layoutCtx(credentialsOf(r), 'Forgot your password?')),
    },
    {
      method: 'POST',
      path: '/forgot-password',
      options: form,
      handler: async (r, h) => {
        const f = (r.payload ?? {}) as Form;
        const email = String(f.email ?? '').slice(0, 1024);
        const view = layoutCtx(credentialsOf(r), 'Forgot your password?');
        try {
          await reset.request(email, client(ctx, r));
        } catch (err) {
          if (!(err instanceof HoldfastError) || !FORGOT_ERRORS.includes(err.code)) throw err;
          return withRetryAfter(
            render(
              h,
              'forgot-password',
              { ...view, error: err.message, email },
              toBoom(err).output.statusCode,
            ),
            err,
          );
        }
        return render(h, 'forgot-password', { ...view, sent: RESET_REQUESTED });
      },
    },
    {
      method: 'GET',
      path: '/reset-password',
      options: resetPage(),
      handler: async (r, h) => {
        const token = typeof r.query.token === 'string' ? r.query.token.slice(0, 256) : '';
        if (!(await reset.isValid(token))) {
          const e = new AccountTokenInvalidError();
          return render(h, 'reset-password', resetView(r, invalidLink(e)), 400);
        }
        return render(h, 'reset-password', resetView(r, { token }));
      },
    },
    {
      method: 'POST',
      path: '/reset-password',
      options: resetPage({ payload: form.payload, plugins: CRUMB_ROUTE }),
      handler: async (r, h) => {
        const f = (r.payload ?? {}) as Form;
        const token = String(f.token ?? '').slice(0, 256);
        try {
          await reset.complete({ token, password: f.password }, client(ctx, r));
        } catch (err) {
          if (err instanceof AccountTokenInvalidError)
            return render(h, 'reset-password', resetView(r, invalidLink(err)), 400);
          if (!(err instanceof HoldfastError) || !RESET_ERRORS.includes(err.code)) throw err;
          return withRetryAfter(
            render(
              h,
              'reset-password',
              resetView(r, { token, error: err.message }),
              toBoom(err).output.statusCode,
            ),
            err,
          );
        }
        // Every session of the account ended, this browser's too.
        clearCookies(ctx, h);
        return h.redirect(at('/login?done=reset')).code(303);
      },
    },
  ];
}

const invalidLink = (e: AccountTokenInvalidError) => ({
  invalid: true,
  error: e.message,
  code: e.code,
});
const FORGOT_ERRORS: readonly string[] = ['HF_USER_INVALID', 'HF_RESET_THROTTLED'];
const RESET_ERRORS: readonly string[] = ['HF_USER_INVALID', 'HF_BUSY'];

/** Headings of the error page by status; any other status shows hapi's reason phrase. */
const ERROR_HEADINGS: Record<string, string> = {
  '400': 'That request could not be read',
  '401': 'Please log in',
  '403': 'Not allowed',
  '404': 'Not found',
  '413': 'That form was too large',
  '415': 'That form could not be read',
  '429': 'Too many attempts',
  '500': 'Something went wrong',
  '503': 'Temporarily unavailable',
};

/** Errors a form shows on its own page (with their status); anything else is thrown. */
const REGISTER_ERRORS: readonly string[] = [
  'HF_USER_INVALID',
  'HF_USER_EXISTS',
  'HF_REGISTRATION_THROTTLED',
  'HF_REGISTRATION_REFUSED',
  'HF_BUSY',
];
const PASSWORD_ERRORS: readonly string[] = [
  'HF_USER_INVALID',
  'HF_PASSWORD_MISMATCH',
  'HF_LOGIN_THROTTLED',
  'HF_BUSY',
];

/** A throttled or busy answer says when to come back, on a page as in the API. */
function withRetryAfter(res: ResponseObject, err: HoldfastError): ResponseObject {
  const seconds = retryAfterSeconds(err);
  return seconds === undefined ? res : res.header('retry-after', String(seconds));
}

/** Notices the login page shows after another page sent the browser there (`?done=`). */
const LOGIN_NOTICES: Record<string, string> = {
  deleted: 'Your account is deleted.',
  reset:
    'Your password is set and every device that was signed in is signed out: log in with the new password.',
  registered:
    'Your account is created. We mailed you a link: open it to confirm your address, then log in.',
  'verify-sent':
    'If an account has this address and it is not confirmed yet, we mailed it a link: open it to confirm your address, then log in.',
};

const NOTICES: Record<string, (label: string, settings: Settings) => string> = {
  'verify-sent': () => 'We mailed you a new link: open it to confirm your address.',
  revoked: () => 'That device is signed out.',
  others: () => 'Every other device is signed out.',
  password: () => 'Your password is changed and every other device is signed out.',
  reauth: (_l, s) =>
    `Confirmed. For the next ${readableWindow(s.auth.reauthWindow)} you can sign out other devices and link or unlink sign-in providers.`,
  linked: (label) => `Your ${label} account is linked: you can sign in with it.`,
  unlinked: (label) => `${label} is unlinked: it no longer signs you in.`,
};

/** Why a link, unlink or confirmation through a provider did not happen (oauth.ts redirects). */
const FAILURES: Record<string, (label: string) => string> = {
  reauth: () => 'Confirm it is you first, then try again.',
  conflict: (label) =>
    `That ${label} account is linked to another account here, or another ${label} account is already linked to yours: nothing changed.`,
  'not-linked': (label) => `The ${label} account you used is not linked to yours: nothing changed.`,
  last: (label) =>
    `${label} is the only way to sign in to this account: link another provider before unlinking it.`,
  expired: (label) =>
    `The ${label} step was not started from this page, or took too long: nothing changed, start again.`,
  failed: (label) => `${label} did not complete the step: nothing changed, try again.`,
};

/** A table's own entry for a query value (never an Object.prototype member like `constructor`). */
function own<T>(table: Record<string, T>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `2026-11-26 09:24 UTC`: the page has no JavaScript to localise times, so say the zone. */
function readableTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
