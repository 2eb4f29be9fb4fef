import type { RouteOptions, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { SCHEME } from '../auth';
import { deleteOwnAccount } from '../accounts';
import { HoldfastError } from '../errors';
import { SESSION_ID } from '../session';
import { publicUser } from '../users';
import type { PluginContext } from './context';
import {
  clearCookies,
  client,
  credentialsOf,
  requireCredentials,
  sessionOf,
  sessionView,
  setSessionCookie,
} from './context';
import { failAction } from './errors';
import { buildOpenApi } from './openapi';

/** Bodies are small JSON documents: anything larger is refused before it is read (413). */
export const MAX_BODY_BYTES = 16 * 1024;

const json = {
  allow: 'application/json',
  maxBytes: MAX_BODY_BYTES,
  output: 'data',
  parse: true,
} as const;
const noStore = { privacy: 'private', otherwise: 'no-cache, no-store' } as const;
/** hapi's security headers on every API answer: it sends no Referer onward, is never framed or sniffed. */
const apiSecurity = (secure: boolean) =>
  ({
    hsts: secure,
    xframe: 'deny',
    noSniff: true,
    referrer: 'no-referrer',
    noOpen: true,
    xss: 'disabled',
  }) as const;
const SESSION_ID_PARAM = Joi.string().pattern(SESSION_ID).required();
const PROVIDER = Joi.string()
  .pattern(/^[a-z0-9][a-z0-9-]{0,31}$/)
  .required();

/** What a reset request answers, for every address alike. */
export const RESET_REQUESTED =
  'If an account has this address, a message with a link to choose a new password is on its way. The link works once, for a limited time.';

type RouteBase = (auth: 'required' | 'optional' | false, extra?: RouteOptions) => RouteOptions;

/** Password reset (only when mail is on: ctx.passwordReset). */
function resetRoutes(ctx: PluginContext, base: RouteBase): ServerRoute[] {
  const reset = ctx.passwordReset;
  if (!reset) return [];
  const p = ctx.settings.password;
  return [
    {
      method: 'POST',
      path: '/auth/password-reset',
      options: base(false, {
        payload: json,
        validate: {
          payload: Joi.object({
            email: Joi.string()
              .max(1024)
              .required()
              .description('The address of the account (else 400 HF_USER_INVALID)'),
          }),
        },
      }),
      handler: async (r, h) => {
        await reset.request((r.payload as { email: string }).email, client(ctx, r));
        return h.response({ message: RESET_REQUESTED }).code(202);
      },
    },
    {
      method: 'POST',
      path: '/auth/password-reset/confirm',
      options: base('optional', {
        payload: json,
        validate: {
          payload: Joi.object({
            token: Joi.string()
              .max(256)
              .required()
              .description('The token of the emailed link (its `token` query parameter)'),
            password: Joi.string()
              .min(1)
              .max(p.maxLength * 4)
              .required()
              .description(
                `The new password: ${p.minLength} to ${p.maxLength} characters, not a common password, without the address or name (else 400 HF_USER_INVALID)`,
              ),
          }),
        },
      }),
      handler: async (r, h) => {
        const body = r.payload as { token: string; password: string };
        const done = await reset.complete(body, client(ctx, r));
        // Every session of the account ended; this browser's cookies go with them.
        clearCookies(ctx, h);
        return { revokedSessions: done.revokedSessions };
      },
    },
  ];
}

/** The JSON API under /auth. CSRF checks run before auth on every state-changing route (csrf.ts). */
export function apiRoutes(ctx: PluginContext): ServerRoute[] {
  const { accounts, sessions, settings } = ctx;
  const p = settings.password;
  const base: RouteBase = (auth, extra = {}) => ({
    auth: auth ? { strategy: SCHEME, mode: auth } : false,
    cache: noStore,
    security: apiSecurity(settings.cookie.secure),
    // A broken Cookie header (someone else's cookie, or garbage) is "no session", not a 400.
    state: { parse: true, failAction: 'log' },
    validate: { failAction },
    tags: ['api', 'holdfast'],
    ...extra,
    ...(extra.validate ? { validate: { failAction, ...extra.validate } } : {}),
  });
  // Built on the first request, from the routes then served (every route is registered by then).
  let openapi: object | undefined;
  const labelOf = (provider: string) =>
    ctx.oauth.find((o) => o.name === provider)?.label ?? provider;

  return [
    {
      method: 'POST',
      path: '/auth/register',
      options: base('optional', {
        payload: json,
        validate: {
          payload: Joi.object({
            email: Joi.string()
              .max(1024)
              .required()
              .description('An email address of at most 254 characters (else 400 HF_USER_INVALID)'),
            password: Joi.string()
              .min(1)
              .max(p.maxLength * 4)
              .required()
              .description(
                `${p.minLength} to ${p.maxLength} characters, not a common password, without the address or name (else 400 HF_USER_INVALID)`,
              ),
            name: Joi.string().max(100).allow(''),
          }),
        },
      }),
      handler: async (r, h) => {
        const body = r.payload as { email: string; password: string; name?: string };
        const { user, issued } = await accounts.register(body, client(ctx, r), sessionOf(r));
        // accounts.requireVerifiedEmail: no session until the mailed link is followed.
        if (!issued)
          return h
            .response({ user: publicUser(user), session: null, verificationRequired: true })
            .code(201);
        setSessionCookie(ctx, h, issued);
        return h
          .response({
            user: publicUser(user),
            session: sessionView(issued.session, issued.session.id),
          })
          .code(201);
      },
    },
    {
      method: 'POST',
      path: '/auth/login',
      options: base('optional', {
        payload: json,
        validate: {
          payload: Joi.object({
            email: Joi.string().max(1024).required(),
            password: Joi.string()
              .max(p.maxLength * 4)
              .allow('')
              .required(),
            remember: Joi.boolean()
              .default(false)
              .description('Also set the remember-me cookie (session.rememberTtl)'),
          }),
        },
      }),
      handler: async (r, h) => {
        const body = r.payload as { email: string; password: string; remember: boolean };
        const result = await accounts.login(body, client(ctx, r), sessionOf(r));
        setSessionCookie(ctx, h, result.issued);
        if (result.rememberToken) h.state(ctx.cookies.remember, result.rememberToken);
        return {
          user: publicUser(result.user),
          session: sessionView(result.issued.session, result.issued.session.id),
        };
      },
    },
    {
      method: 'POST',
      path: '/auth/logout',
      options: base('optional'),
      handler: async (r, h) => {
        const remember = r.state[ctx.cookies.remember];
        await accounts.logout(sessionOf(r), typeof remember === 'string' ? remember : undefined);
        clearCookies(ctx, h);
        return h.response().code(204);
      },
    },
    {
      method: 'GET',
      path: '/auth/me',
      options: base('required'),
      handler: async (r) => {
        const c = requireCredentials(r);
        const user = await ctx.users.findById(c.user.id);
        if (!user)
          throw new HoldfastError(
            'HF_UNAUTHENTICATED',
            'the account of this session no longer exists',
          );
        return { user: publicUser(user), session: sessionView(c.session, c.session.id) };
      },
    },
    {
      method: 'GET',
      path: '/auth/sessions',
      options: base('required'),
      handler: async (r) => {
        const c = requireCredentials(r);
        const list = await sessions.list(c.user.id);
        return { sessions: list.map((s) => sessionView(s, c.session.id)) };
      },
    },
    {
      method: 'DELETE',
      path: '/auth/sessions/{id}',
      options: base('required', { validate: { params: Joi.object({ id: SESSION_ID_PARAM }) } }),
      handler: async (r, h) => {
        const c = requireCredentials(r);
        const id = (r.params as { id: string }).id;
        if (!(await accounts.revokeOne(c.session, id))) {
          throw new HoldfastError(
            'HF_SESSION_NOT_FOUND',
            `no session ${id} of yours: list them at GET /auth/sessions`,
          );
        }
        if (id === c.session.id) clearCookies(ctx, h);
        return h.response().code(204);
      },
    },
    {
      method: 'DELETE',
      path: '/auth/sessions',
      options: base('required'),
      handler: async (r) => {
        const ended = await accounts.revokeOthers(requireCredentials(r).session);
        return { revoked: ended.length };
      },
    },
    {
      method: 'POST',
      path: '/auth/password',
      options: base('required', {
        payload: json,
        validate: {
          payload: Joi.object({
            currentPassword: Joi.string()
              .max(p.maxLength * 4)
              .allow('')
              .required(),
            newPassword: Joi.string()
              .min(1)
              .max(p.maxLength * 4)
              .required()
              .description(
                `${p.minLength} to ${p.maxLength} characters, not a common password, without the address or name (else 400 HF_USER_INVALID)`,
              ),
          }),
        },
      }),
      handler: async (r, h) => {
        const body = r.payload as { currentPassword: string; newPassword: string };
        const issued = await accounts.changePassword(
          requireCredentials(r).session,
          body,
          client(ctx, r),
        );
        setSessionCookie(ctx, h, issued);
        h.unstate(ctx.cookies.remember);
        return { session: sessionView(issued.session, issued.session.id) };
      },
    },
    {
      method: 'POST',
      path: '/auth/reauth',
      options: base('required', {
        payload: json,
        validate: {
          payload: Joi.object({
            password: Joi.string()
              .max(p.maxLength * 4)
              .allow('')
              .required(),
          }),
        },
      }),
      handler: async (r, h) => {
        const { password } = r.payload as { password: string };
        const issued = await accounts.reauthenticate(
          requireCredentials(r).session,
          password,
          client(ctx, r),
        );
        setSessionCookie(ctx, h, issued);
        return {
          session: sessionView(issued.session, issued.session.id),
          reauthUntil: new Date(accounts.recentUntil(issued.session) ?? 0).toISOString(),
        };
      },
    },
    ...resetRoutes(ctx, base),
    {
      method: 'DELETE',
      path: '/auth/account',
      options: base('required'),
      handler: async (r, h) => {
        await deleteOwnAccount(accounts, requireCredentials(r).session);
        clearCookies(ctx, h);
        return h.response().code(204);
      },
    },
    {
      method: 'GET',
      path: '/auth/identities',
      options: base('required'),
      handler: async (r) => {
        const c = requireCredentials(r);
        const linked = await accounts.identities(c.user.id);
        const until = accounts.recentUntil(c.session);
        return {
          identities: linked.map((i) => ({ provider: i.provider, label: labelOf(i.provider) })),
          reauthUntil: until === null ? null : new Date(until).toISOString(),
        };
      },
    },
    {
      method: 'DELETE',
      path: '/auth/identities/{provider}',
      options: base('required', { validate: { params: Joi.object({ provider: PROVIDER }) } }),
      handler: async (r, h) => {
        const provider = (r.params as { provider: string }).provider;
        await accounts.unlinkIdentity(requireCredentials(r).session, provider, labelOf(provider));
        return h.response().code(204);
      },
    },
    ...verificationRoutes(ctx, base),
    {
      method: 'GET',
      path: '/auth/openapi.json',
      options: {
        auth: false,
        security: apiSecurity(settings.cookie.secure),
        tags: ['api', 'holdfast'],
      },
      handler: (r, h) =>
        (openapi ??= buildOpenApi(
          settings,
          ctx.oauth,
          r.server.table(),
          h.realm.modifiers.route.prefix ?? '',
        )),
    },
  ];
}

/**
 * Email verification (ADR 145), served only when mail is on. The token travels in a POST body,
 * never in a URL of this API: the mailed link opens the /verify-email page, whose form posts it.
 */
function verificationRoutes(
  ctx: PluginContext,
  base: (auth: 'required' | 'optional' | false, extra?: RouteOptions) => RouteOptions,
): ServerRoute[] {
  const verification = ctx.verification;
  if (!verification) return [];
  return [
    {
      method: 'POST',
      path: '/auth/verify-email',
      options: base('optional', {
        payload: json,
        validate: {
          payload: Joi.object({
            token: Joi.string()
              .max(200)
              .required()
              .description('The `token` of the mailed link (/verify-email?token=…)'),
          }),
        },
      }),
      handler: async (r) => {
        const { token } = r.payload as { token: string };
        const user = await verification.verify(token, credentialsOf(r)?.user.id);
        return { user: publicUser(user) };
      },
    },
    {
      method: 'POST',
      path: '/auth/verify-email/send',
      options: base('optional', {
        payload: json,
        validate: {
          payload: Joi.object({
            email: Joi.string()
              .max(1024)
              .description('The address to send to when not signed in (ignored when signed in)'),
          }),
        },
      }),
      handler: async (r, h) => {
        const c = credentialsOf(r);
        const email = (r.payload as { email?: string }).email;
        if (!c && email === undefined)
          throw new HoldfastError(
            'HF_REQUEST_INVALID',
            '"email" is required when not signed in: the address the account was registered with',
          );
        await verification.resend(c ? { userId: c.user.id } : { email: email! }, client(ctx, r).ip);
        // The same answer whether or not an account has the address, or is verified already.
        return h.response({ accepted: true }).code(202);
      },
    },
  ];
}
