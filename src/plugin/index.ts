import type { Plugin, Request, ResponseObject, ResponseToolkit, Server } from '@hapi/hapi';
import { AccountAdmin } from '../accounts';
import type { AccountService, AuthEvents } from '../accounts';
import {
  defineCookies,
  holdfastScheme,
  HoldfastCredentials,
  SCHEME,
  TrustedProxies,
} from '../auth';
import { HoldfastError } from '../errors';
import { apiRoutes } from './api';
import { registerMethodNotAllowed } from './method-not-allowed';
import type { PluginContext } from './context';
import { Csrf, exemptFromCrumb, registerCsrf } from './csrf';
import { toBoom } from './errors';
import { timedAuthentication, registerRequestScopes, requestDeadline } from './deadline';
import { registerDurability } from './durability';
import { registerMediaType } from './media-type';
import { providerInfo, registerOAuth, resolveProviders } from './oauth';
import { OAuthIntents } from './oauth-intent';
import { registerPages } from './pages';
import { HoldfastPluginOptions, validateOptions } from './options';
import { requireSupportedHapi } from './hapi-version';

export type { HoldfastPluginOptions } from './options';
export { toBoom, OUTAGE_RETRY_AFTER_S } from './errors';
export { DURABILITY_HEADER } from './durability';
export { Csrf } from './csrf';
export { MAX_BODY_BYTES } from './api';
export { buildOpenApi } from './openapi';
export { githubProvider, googleProvider, OAUTH_STATE_TTL_MS } from './oauth';
export type { OAuthProviderOptions, OAuthProviderProfile } from './oauth';
export type { OAuthProviderInfo } from './context';
export { MIN_HAPI_MAJOR, requireSupportedHapi } from './hapi-version';

declare module '@hapi/hapi' {
  /**
   * Importing Holdfast types `request.auth.credentials` as Holdfast's (`user.id`, `session`), so a
   * handler reads `r.auth.credentials.user.id` without a cast (hapi's documented way to type
   * credentials app-wide). The Record keeps hapi's own constraint on this slot.
   */
  interface ReqRefDefaults {
    AuthCredentialsExtra: HoldfastCredentials & Record<string, unknown>;
  }
  /** `server.plugins.holdfast`, typed. */
  interface PluginProperties {
    holdfast?: HoldfastExposed;
  }
}

/** What the plugin exposes as `server.plugins.holdfast`. */
export interface HoldfastExposed {
  readonly events: AuthEvents;
  readonly accounts: AccountService;
  /**
   * Administrators' actions for the host app's own admin routes: disable, enable, delete,
   * revokeSessions, listSessions and show, by `{ userId }` or `{ email }` (docs/api.md, ADR 150).
   */
  readonly admin: AccountAdmin;
}

/**
 * The Hapi plugin: the `holdfast` auth scheme and strategy (default unless defaultStrategy:
 * false), the JSON API under /auth, the pages, OAuth, CSRF checks, and the mapping of Holdfast
 * errors to HTTP (an outage is 503 with Retry-After, never 401).
 */
export const holdfastPlugin: Plugin<HoldfastPluginOptions> = {
  name: 'holdfast',
  version: '0.1.0',
  async register(server: Server, raw: HoldfastPluginOptions) {
    requireSupportedHapi(server, 'holdfast');
    const options = validateOptions(raw);
    const { settings, sessions, accounts } = options;
    const { events, users } = accounts;
    const cookies = defineCookies(server, settings);
    const csrf = new Csrf(
      settings.cookie.password as string,
      settings.csrf.origins,
      settings.cookie.secure,
    );
    const providers = resolveProviders(settings, options.oauthProviders);
    const oauth = providerInfo(providers);
    const trustedProxies = new TrustedProxies(settings.http.trustedProxies);
    const ctx: PluginContext = {
      settings,
      sessions,
      users,
      accounts,
      events,
      cookies,
      csrf,
      trustedProxies,
      oauth,
      intents: new OAuthIntents(server, settings),
      passwordReset: options.passwordReset ?? null,
      verification: options.verification ?? null,
    };

    if (options.logger) auditLog(events, options.logger);

    const redirect = redirectOptions(server, options);
    server.auth.scheme(SCHEME, () => {
      const scheme = holdfastScheme({
        sessions,
        cookies,
        events,
        trustedProxies,
        roles: (userId) => accounts.rolesOf(userId),
        redirect,
      });
      return settings.store.type === 'redis' ? timedAuthentication(scheme) : scheme;
    });
    server.auth.strategy(SCHEME, SCHEME);
    if (options.defaultStrategy !== false) server.auth.default(SCHEME);

    registerRequestScopes(server, [
      requestDeadline(server, settings),
      registerDurability(server, settings),
    ]);
    registerCsrf(server, csrf);
    exemptFromCrumb(server);
    registerMediaType(server);
    server.route(apiRoutes(ctx));
    if (options.pages !== false) await registerPages(server, ctx);
    await registerOAuth(server, ctx, providers, options.pages !== false);
    registerMethodNotAllowed(server);
    // After the pages' own onPreResponse (an HTML error page): an extension that returns a Boom
    // ends the chain, so the JSON mapping must come last.
    const prefix = server.realm.modifiers.route.prefix ?? '';
    server.ext('onPreResponse', (request: Request, h: ResponseToolkit) =>
      mapErrors(request, h, prefix),
    );
    server.expose('events', events);
    server.expose('accounts', accounts);
    server.expose('admin', new AccountAdmin(accounts, sessions));
  },
};

/** auth.redirectTo (or the plugin's redirectTo), see HoldfastPluginOptions.redirectTo. */
function redirectOptions(server: Server, options: HoldfastPluginOptions) {
  const { redirectTo, appendNext } = options.settings.auth;
  let to: string | false;
  if (options.redirectTo !== undefined) to = options.redirectTo;
  else if (options.pages === false || redirectTo === false) to = false;
  else to = `${server.realm.modifiers.route.prefix ?? ''}${redirectTo}`;
  return to === false ? false : { to, appendNext };
}

/**
 * Maps HoldfastErrors anywhere in the app (a store outage in a host route is a 503 too) and tags
 * other 4xx answers of Holdfast routes with a stable code.
 */
function mapErrors(request: Request, h: ResponseToolkit, prefix: string) {
  const response = request.response as
    | (ResponseObject & { isBoom?: false })
    | (Error & { isBoom: true; output: { statusCode: number; payload: Record<string, unknown> } });
  if (!response || !('isBoom' in response) || !response.isBoom) return h.continue;
  if (response instanceof HoldfastError) return toBoom(response, prefix);
  const ours =
    request.route.realm.plugin === 'holdfast' ||
    (request.route.settings.tags ?? []).includes('holdfast');
  const payload = response.output.payload;
  if (ours && payload.code === undefined) {
    const status = response.output.statusCode;
    if (status === 401) payload.code = 'HF_UNAUTHENTICATED';
    else if (status >= 400 && status < 500) payload.code = 'HF_REQUEST_INVALID';
    else payload.code = 'HF_INTERNAL';
  }
  return h.continue;
}

function auditLog(events: AuthEvents, log: NonNullable<HoldfastPluginOptions['logger']>): void {
  events.on('registered', (e) => log.info({ audit: 'registered', ...e }, 'user registered'));
  events.on('login', (e) => log.info({ audit: 'login', ...e }, 'login'));
  events.on('loginFailed', (e) => log.info({ audit: 'login_failed', ...e }, 'login failed'));
  events.on('throttled', (e) => log.warn({ audit: 'login_throttled', ...e }, 'login throttled'));
  events.on('logout', (e) => log.info({ audit: 'logout', ...e }, 'logout'));
  events.on('revoked', (e) => log.info({ audit: 'sessions_revoked', ...e }, 'sessions revoked'));
  events.on('rolesChanged', (e) => log.info({ audit: 'roles_changed', ...e }, 'roles changed'));
  events.on('disabled', (e) => log.info({ audit: 'user_disabled', ...e }, 'user disabled'));
  events.on('enabled', (e) => log.info({ audit: 'user_enabled', ...e }, 'user enabled'));
  events.on('deleted', (e) =>
    log.info(
      { audit: 'user_deleted', ...e },
      e.by === 'self' ? 'user deleted their own account' : 'user deleted',
    ),
  );
  events.on('passwordChanged', (e) =>
    log.info({ audit: 'password_changed', ...e }, 'password changed'),
  );
  events.on('passwordResetRequested', (e) =>
    log.info({ audit: 'password_reset_requested', ...e }, 'password reset requested'),
  );
  events.on('passwordReset', (e) =>
    log.info({ audit: 'password_reset', ...e }, 'password reset: every session ended'),
  );
  events.on('passwordResetFailed', (e) =>
    log.info({ audit: 'password_reset_failed', ...e }, 'password reset link refused'),
  );
  events.on('mailed', (e) =>
    e.ok
      ? log.info({ audit: 'mail_sent', ...e }, `mail sent: ${e.kind}`)
      : log.warn({ audit: 'mail_failed', ...e }, `mail failed: ${e.kind}`),
  );
  events.on('revocationDeferred', (e) =>
    log.warn(
      { audit: 'revocation_deferred', ...e },
      `${e.change} written, but the user's other sessions could not be ended yet (store unavailable): retrying every second`,
    ),
  );
  events.on('revocationFinished', (e) =>
    log.info({ audit: 'revocation_finished', ...e }, `${e.change}: the user's sessions ended`),
  );
  events.on('revocationAbandoned', ({ error, ...e }) =>
    log.error(
      { audit: 'revocation_abandoned', ...e, ...(error ? { err: error } : {}) },
      `${e.change}: the user's other sessions were not ended and may still work: run holdfast sessions revoke --user ${e.userId}`,
    ),
  );
  events.on('breachCheckFailed', (e) =>
    log.warn(
      { audit: 'breach_check_failed', ...e },
      'breached-password lookup failed: the new password was accepted without it',
    ),
  );
  events.on('reauthenticated', (e) =>
    log.info({ audit: 'reauthenticated', ...e }, 're-authenticated: new session id'),
  );
  events.on('identityLinked', (e) =>
    e.merged
      ? log.warn(
          { audit: 'identity_linked', ...e },
          'provider linked to an account whose address nobody had proved: its password, sessions and remember-me series ended',
        )
      : log.info({ audit: 'identity_linked', ...e }, 'provider linked'),
  );
  events.on('verificationSent', (e) =>
    log.info({ audit: 'verification_sent', ...e }, 'email verification message issued'),
  );
  events.on('emailVerified', (e) => log.info({ audit: 'email_verified', ...e }, 'email verified'));
  events.on('notified', (e) =>
    e.sent
      ? log.info({ audit: 'notified', ...e }, `security notice mailed: ${e.kind}`)
      : log.warn({ audit: 'notified', ...e }, `security notice not accepted: ${e.kind}`),
  );
  events.on('identityUnlinked', (e) =>
    log.info({ audit: 'identity_unlinked', ...e }, 'provider unlinked'),
  );
  // The hook's name and what it threw (a hook never sees a password, so neither does this line).
  events.on('hookFailed', ({ hook, userId, error }) =>
    log.error({ audit: 'hook_failed', hook, userId, err: error }, `the ${hook} hook failed`),
  );
  events.on('theft', (e) =>
    log.warn(
      { audit: 'remember_theft', ...e },
      'remember-me token reused: series and sessions revoked',
    ),
  );
}
