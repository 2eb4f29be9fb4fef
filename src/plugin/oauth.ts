import * as Bell from '@hapi/bell';
import type { Credentials2, CustomProtocol2 } from '@hapi/bell';
import Boom from '@hapi/boom';
import type {
  Request,
  ResponseObject,
  ResponseToolkit,
  RouteOptions,
  Server,
  ServerRoute,
} from '@hapi/hapi';
import type { OAuthFailureCause, OAuthProfile } from '../accounts';
import { cookiePasswordKey, hostPrefixed, SCHEME } from '../auth';
import type { Settings } from '../config';
import { HoldfastError } from '../errors';
import type { StoredSession } from '../store/engine';
import type { OAuthProviderInfo, PluginContext } from './context';
import { MAX_BODY_BYTES } from './api';
import { client, credentialsOf, requireCredentials, setSessionCookie } from './context';
import { CRUMB_ROUTE } from './csrf';
import { toBoom } from './errors';
import { IntentMode, OAUTH_STATE_TTL_MS, OAuthIntent } from './oauth-intent';
import { PAGE_CSP, PAGE_SECURITY, pagePath, renderLogin } from './pages';

export { OAUTH_STATE_TTL_MS } from './oauth-intent';

/**
 * A bell provider object for an app's own (or a test's) OAuth 2 provider, with its client
 * credentials. Its `profile` function must set `credentials.profile` to an OAuthProviderProfile:
 * Holdfast links or creates accounts only from `emailVerified: true`.
 */
export interface OAuthProviderOptions {
  readonly provider: CustomProtocol2;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The button text on the login page (default: the provider's name). */
  readonly label?: string;
}

/** What a provider's `profile` function leaves in `credentials.profile`. */
export interface OAuthProviderProfile {
  /** The provider's stable account id (GitHub's numeric id, Google's `sub`). */
  id: string | number;
  email?: string;
  /** True only when the provider vouches that this person controls `email`. */
  emailVerified?: boolean;
  displayName?: string;
}

interface ResolvedProvider extends OAuthProviderInfo {
  readonly options: OAuthProviderOptions;
}

/** Provider names appear in URLs, cookie names and identity keys: keep them plain. */
export const PROVIDER_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** A provider's own requests (GitHub's email list) give up after this long. */
const PROVIDER_TIMEOUT_MS = 10_000;

const GOOGLE_USERINFO = 'https://www.googleapis.com/oauth2/v3/userinfo';

/** Button text of the built-in providers (also when an app replaces one through oauthProviders). */
const LABELS: Readonly<Record<string, string>> = { github: 'GitHub', google: 'Google' };

// bell's built-in providers: not in its type declarations, but part of its documented API.
const BELL_PROVIDERS = (
  Bell as unknown as { providers: Record<string, (config?: object) => CustomProtocol2> }
).providers;

/**
 * GitHub (github.com, or GitHub Enterprise Server at `uri`), from bell's built-in provider. bell's
 * own profile takes the *public* email of /user, which may be absent and is not necessarily
 * verified; this one takes the account's primary email from /user/emails and whether GitHub
 * verified it.
 */
export function githubProvider(options: { uri?: string } = {}): CustomProtocol2 {
  const uri = options.uri?.replace(/\/+$/, '');
  const base = BELL_PROVIDERS.github(uri ? { uri } : undefined);
  const api = uri ? `${uri}/api/v3` : 'https://api.github.com';
  return {
    ...base,
    name: 'github',
    pkce: 'S256',
    profile: async function (credentials, _params, get) {
      const user = (await get(`${api}/user`)) as { id?: unknown; login?: unknown; name?: unknown };
      // bell's `get` parses only JSON objects, and /user/emails answers an array.
      const emails = await getJson(`${api}/user/emails`, credentials.token, 'github', {
        ...base.headers,
        accept: 'application/vnd.github+json',
      });
      const primary = Array.isArray(emails)
        ? (emails as Array<{ email?: unknown; primary?: unknown; verified?: unknown } | null>).find(
            (e) => e?.primary === true,
          )
        : undefined;
      const profile: OAuthProviderProfile = {
        id: user.id as string | number,
        displayName: str(user.name) || str(user.login),
        email: str(primary?.email) || undefined,
        emailVerified: primary?.verified === true,
      };
      credentials.profile = profile;
    },
  };
}

/**
 * Google, from bell's built-in provider; `email_verified` from the userinfo endpoint decides.
 * The endpoints can be replaced (tests point them at a local provider).
 */
export function googleProvider(
  options: { auth?: string; token?: string; userinfo?: string } = {},
): CustomProtocol2 {
  const base = BELL_PROVIDERS.google();
  const userinfo = options.userinfo ?? GOOGLE_USERINFO;
  return {
    ...base,
    name: 'google',
    pkce: 'S256',
    auth: options.auth ?? base.auth,
    token: options.token ?? base.token,
    profile: async function (credentials, _params, get) {
      const info = (await get(userinfo)) as {
        sub?: unknown;
        name?: unknown;
        email?: unknown;
        email_verified?: unknown;
      };
      const profile: OAuthProviderProfile = {
        id: info.sub as string,
        displayName: str(info.name),
        email: str(info.email) || undefined,
        emailVerified: info.email_verified === true || info.email_verified === 'true',
      };
      credentials.profile = profile;
    },
  };
}

/**
 * The providers to register: GitHub and Google when their settings are present, then the
 * plugin's `oauthProviders` (which replace a built-in one of the same name).
 */
export function resolveProviders(
  settings: Settings,
  custom: Readonly<Record<string, OAuthProviderOptions>> = {},
): ResolvedProvider[] {
  const all = new Map<string, OAuthProviderOptions>();
  const { github, google } = settings.oauth;
  if (github) {
    all.set('github', {
      provider: githubProvider({ uri: github.uri }),
      clientId: github.clientId,
      clientSecret: github.clientSecret,
    });
  }
  if (google) {
    all.set('google', {
      provider: googleProvider(),
      clientId: google.clientId,
      clientSecret: google.clientSecret,
    });
  }
  for (const [name, options] of Object.entries(custom)) all.set(name, options);
  return [...all].map(([name, options]) => ({
    name,
    label: options.label ?? LABELS[name] ?? name,
    path: `/auth/oauth/${name}`,
    options,
  }));
}

/** The public part of the providers (for pages and the OpenAPI document). */
export function providerInfo(providers: readonly ResolvedProvider[]): OAuthProviderInfo[] {
  return providers.map(({ name, label, path }) => ({ name, label, path }));
}

/**
 * Registers @hapi/bell, one bell strategy per provider and the route `GET /auth/oauth/{name}`,
 * where bell sends the browser to the provider and receives its callback. Without an intent, a
 * linked identity or a new verified email signs in: the browser gets a new Holdfast session and
 * goes to `oauth.redirectTo`. With an intent started from /account (oauth-intent.ts), the
 * callback links the provider account to the signed-in user, or re-authenticates them.
 */
export async function registerOAuth(
  server: Server,
  ctx: PluginContext,
  providers: readonly ResolvedProvider[],
  pages: boolean,
): Promise<void> {
  const { settings, csrf, events, accounts, intents } = ctx;
  // Page paths and oauth.redirectTo lie under the plugin's route prefix, like every page.
  const at = (path: string) => pagePath(server.realm, path);
  const byName = new Map(providers.map((p) => [p.name, p]));
  const noSuchProvider = () =>
    Boom.notFound(
      providers.length
        ? `no such OAuth provider: the configured ones are ${providers.map((p) => p.name).join(', ')}`
        : 'no OAuth provider is configured (oauth.github, oauth.google)',
    );
  const known = (name: unknown): ResolvedProvider => {
    const p = typeof name === 'string' ? byName.get(name) : undefined;
    if (!p) throw noSuchProvider();
    return p;
  };
  const api: RouteOptions = {
    auth: { strategy: SCHEME, mode: 'required' },
    cache: { privacy: 'private', otherwise: 'no-cache, no-store' },
    state: { parse: true, failAction: 'log' },
    tags: ['api', 'holdfast'],
  };
  const routes: ServerRoute[] = [
    {
      method: 'GET',
      path: '/auth/oauth/{provider}',
      options: { auth: false, tags: ['holdfast', 'holdfast-oauth'] },
      handler: () => {
        throw noSuchProvider();
      },
    },
    // Start a link or a re-authentication (JSON clients, or an app's own pages): 303 to the start.
    ...(['link', 'reauth'] as const).map((mode): ServerRoute => ({
      method: 'POST',
      path: `/auth/oauth/{provider}/${mode}`,
      options: api,
      handler: async (r, h) => {
        const p = known(r.params.provider);
        return startIntent(r, h, mode, p);
      },
    })),
  ];
  if (pages) routes.push(...pageRoutes());
  if (providers.length) {
    await server.register(Bell, { once: true });
    // bell seals its short-lived state cookie with iron; its password is derived once, here,
    // from cookie.password (a separate key from the CSRF crumbs), never per request.
    const password = cookiePasswordKey(
      settings.cookie.password as string,
      'oauth-state-v1',
    ).toString('hex');
    const location = settings.oauth.location?.replace(/\/+$/, '');
    for (const p of providers) {
      const cookie = hostPrefixed(settings.cookie, `${settings.cookie.name}_oauth_${p.name}`);
      server.auth.strategy(strategyName(p.name), 'bell', {
        provider: p.options.provider,
        password,
        clientId: p.options.clientId,
        clientSecret: p.options.clientSecret,
        cookie,
        isSecure: settings.cookie.secure,
        isHttpOnly: true,
        // Lax, not bell's Strict: the provider's redirect back is a cross-site top-level GET.
        isSameSite: 'Lax',
        ttl: OAUTH_STATE_TTL_MS,
        // Secure cookies mean the site is served over https (perhaps behind a TLS proxy).
        forceHttps: settings.cookie.secure,
        ...(location ? { location } : {}),
      });
      routes.push(providerRoute(p, cookie));
    }
  }
  server.route(routes);

  /**
   * Sets the intent cookie (bound to this session) and sends the browser to start the round trip.
   * Checked first, so nobody is sent to the provider for a link that cannot succeed.
   */
  async function startIntent(
    r: Request,
    h: ResponseToolkit,
    mode: IntentMode,
    p: ResolvedProvider,
  ): Promise<ResponseObject> {
    const c = requireCredentials(r);
    if (mode === 'link') await accounts.checkCanLink(c.session, p.name, p.label);
    else if (!(await accounts.identities(c.user.id)).some((i) => i.provider === p.name)) {
      throw new HoldfastError('HF_OAUTH_NOT_LINKED', `no ${p.label} account is linked to yours`);
    }
    return h.redirect(at(intents.issue(h, mode, p.name, c.session.id))).code(303);
  }

  /** The /account forms (crumb) for linking, unlinking and confirming through a provider. */
  function pageRoutes(): ServerRoute[] {
    const options: RouteOptions = {
      auth: { strategy: SCHEME, mode: 'optional' },
      cache: { privacy: 'private', otherwise: 'no-cache, no-store' },
      state: { parse: true, failAction: 'log' },
      security: PAGE_SECURITY(settings),
      payload: {
        allow: 'application/x-www-form-urlencoded',
        maxBytes: MAX_BODY_BYTES,
        output: 'data',
        parse: true,
      },
      plugins: CRUMB_ROUTE,
      tags: ['holdfast', 'holdfast-page'],
    };
    const form = (
      action: 'link' | 'reauth' | 'unlink',
      run: (r: Request, h: ResponseToolkit, p: ResolvedProvider) => Promise<ResponseObject>,
    ): ServerRoute => ({
      method: 'POST',
      path: `/account/oauth/{provider}/${action}`,
      options,
      handler: async (r, h) => {
        if (!credentialsOf(r)) return h.redirect(at('/login')).code(303);
        const p = known(r.params.provider);
        try {
          return await run(r, h, p);
        } catch (err) {
          if (err instanceof HoldfastError && ACCOUNT_FAILURES[err.code]) {
            return h.redirect(at(accountFailure(err.code, p))).code(303);
          }
          throw err;
        }
      },
    });
    return [
      form('link', (r, h, p) => startIntent(r, h, 'link', p)),
      form('reauth', (r, h, p) => startIntent(r, h, 'reauth', p)),
      form('unlink', async (r, h, p) => {
        await accounts.unlinkIdentity(requireCredentials(r).session, p.name, p.label);
        return h.redirect(at(`/account?done=unlinked&provider=${p.name}`)).code(303);
      }),
    ];
  }

  function providerRoute(p: ResolvedProvider, cookie: string): ServerRoute {
    return {
      method: 'GET',
      path: p.path,
      options: {
        // `try`: bell's failures reach the handler, which answers them as 4xx, not bell's 500.
        auth: { strategy: strategyName(p.name), mode: 'try' },
        cache: { privacy: 'private', otherwise: 'no-cache, no-store' },
        state: { parse: true, failAction: 'log' },
        security: PAGE_SECURITY(settings),
        tags: ['holdfast', 'holdfast-oauth'],
        ext: {
          onPreAuth: { method: (r: Request, h: ResponseToolkit) => beforeBell(p, cookie, r, h) },
          onPreResponse: {
            method: (r: Request, h: ResponseToolkit) => {
              const res = r.response as ResponseObject & { isBoom?: boolean };
              if (!res.isBoom) res.header('content-security-policy', PAGE_CSP);
              return h.continue;
            },
          },
        },
      },
      handler: async (r, h) => {
        if (!r.auth.isAuthenticated) {
          const { error, cause } = classify(p, r.auth.error);
          return fail(r, h, p, error, cause);
        }
        const credentials = r.auth.credentials as unknown as Credentials2;
        const profile = toProfile(p, credentials);
        if (!profile) {
          const error = oauthError(`${p.label} gave no account id: sign-in is not possible`);
          return fail(r, h, p, error, 'invalid_profile');
        }
        // bell sealed the start request's query in its state: an intent nonce there means this
        // round trip was started from /account, and it never falls back to a sign-in.
        const nonce = (credentials.query as Record<string, unknown> | undefined)?.intent;
        const intent = intents.read(r);
        if (intent || r.state[intents.cookie] !== undefined) intents.clear(h);
        if (nonce !== undefined) return finishIntent(r, h, p, profile, intent, nonce);
        try {
          const { issued } = await accounts.oauthLogin(
            profile,
            client(ctx, r),
            await currentSession(r),
          );
          setSessionCookie(ctx, h, issued);
          return h.redirect(at(settings.oauth.redirectTo)).code(303);
        } catch (err) {
          if (!(err instanceof HoldfastError)) throw err;
          // Accounts recorded these failures itself (a hook's refusal shows the hook's message).
          if (SIGN_IN_FAILURES.includes(err.code)) return fail(r, h, p, err);
          if (err.code === 'HF_USER_INVALID') {
            const error = oauthError(
              `${p.label} gave an email address that is not acceptable here: ${err.message}`,
            );
            return fail(r, h, p, error, 'invalid_profile');
          }
          throw err;
        }
      },
    };
  }

  /** The callback of a link or re-authentication started by this browser's signed-in session. */
  async function finishIntent(
    r: Request,
    h: ResponseToolkit,
    p: ResolvedProvider,
    profile: OAuthProfile,
    intent: OAuthIntent | null,
    nonce: unknown,
  ): Promise<ResponseObject> {
    const html = wantsHtml(r);
    try {
      if (!intent || intent.nonce !== nonce || intent.provider !== p.name) {
        throw new HoldfastError(
          'HF_CSRF',
          `the ${p.label} round trip was not started from this browser's account page, or took longer than ${OAUTH_STATE_TTL_MS / 60_000} minutes: start again`,
        );
      }
      const current = await currentSession(r);
      if (current?.id !== intent.sessionId) {
        throw new HoldfastError(
          'HF_UNAUTHENTICATED',
          `your session ended or changed while you were at ${p.label}: sign in and start again`,
        );
      }
      if (intent.mode === 'link') {
        await accounts.linkIdentity(current, profile);
        return h
          .redirect(
            at(pages ? `/account?done=linked&provider=${p.name}` : settings.oauth.redirectTo),
          )
          .code(303);
      }
      const issued = await accounts.reauthenticateOAuth(current, profile, client(ctx, r));
      setSessionCookie(ctx, h, issued);
      return h.redirect(at(pages ? '/account?done=reauth' : settings.oauth.redirectTo)).code(303);
    } catch (err) {
      if (html && err instanceof HoldfastError && ACCOUNT_FAILURES[err.code]) {
        return h.redirect(at(accountFailure(err.code, p))).code(303);
      }
      throw err;
    }
  }

  /**
   * Before bell: a provider's error redirect ends here (bell would otherwise start a new sign-in
   * for any error but access_denied), and a new sign-in must be started from this site.
   */
  function beforeBell(p: ResolvedProvider, cookie: string, r: Request, h: ResponseToolkit) {
    const q = r.query as Record<string, unknown>;
    if (q.error !== undefined || q.denied !== undefined) {
      h.unstate(cookie);
      // Only a short token of what the provider said: it is attacker-controlled text.
      const said = typeof q.error === 'string' && /^[a-z_]{1,64}$/.test(q.error) ? q.error : '';
      const denied = said === 'access_denied' || q.denied !== undefined;
      const error = oauthError(
        denied
          ? `sign-in with ${p.label} was cancelled or refused: nothing changed, you can try again`
          : `${p.label} could not complete the sign-in (${said || 'unknown error'}): try again later`,
      );
      return fail(r, h, p, error, denied ? 'denied' : 'provider_error').takeover();
    }
    if (q.code === undefined) {
      // Starting a sign-in is an explicit action on this site (its login page), never a
      // navigation from another site that could sign the browser in silently.
      try {
        csrf.checkOrigin(r);
      } catch (err) {
        if (!(err instanceof HoldfastError)) throw err;
        const error = new HoldfastError(
          'HF_CSRF',
          `sign-in with ${p.label} must be started from this site's login page`,
        );
        return fail(r, h, p, error).takeover();
      }
    }
    return h.continue;
  }

  function wantsHtml(r: Request): boolean {
    const accept = r.headers.accept;
    return pages && typeof accept === 'string' && accept.includes('text/html');
  }

  /**
   * Answers a failed round trip: for browsers the login page with the message (or, for a link or
   * confirmation started from /account, the account page), else Boom JSON.
   */
  function fail(
    r: Request,
    h: ResponseToolkit,
    p: ResolvedProvider,
    error: HoldfastError,
    cause?: OAuthFailureCause,
  ): ResponseObject {
    if (cause) {
      events.record('loginFailed', {
        reason: 'oauth',
        ip: client(ctx, r).ip,
        provider: p.name,
        cause,
      });
    }
    if (wantsHtml(r)) {
      // (This route's auth is bell's: the account page itself sends a signed-out browser to /login.)
      const intent = intents.read(r);
      if (intent && intent.provider === p.name) {
        intents.clear(h);
        return h.redirect(at(accountFailure('HF_OAUTH_FAILED', p))).code(303);
      }
      return renderLogin(h, ctx, error.message, toBoom(error).output.statusCode);
    }
    throw error;
  }

  /** The Holdfast session this browser already has, if any (it ends at sign-in: no fixation). */
  async function currentSession(r: Request): Promise<StoredSession | null> {
    const raw = r.state[ctx.cookies.session];
    if (typeof raw !== 'string') return null;
    const a = await ctx.sessions.authenticate(raw);
    return a.result === 'ok' ? a.session : null;
  }
}

/** Sign-in failures the login page (or the JSON answer) shows with their own message. */
const SIGN_IN_FAILURES: readonly string[] = [
  'HF_OAUTH_FAILED',
  'HF_OAUTH_LINK_REQUIRED',
  'HF_REGISTRATION_REFUSED',
  'HF_LOGIN_REFUSED',
  // A disabled account: the browser sees the reason on the login page, as a password login does.
  'HF_ACCOUNT_DISABLED',
];

/** Account-page failures of a link, unlink or confirmation: a fixed word in the redirect. */
const ACCOUNT_FAILURES: Partial<Record<string, string>> = {
  HF_REAUTH_REQUIRED: 'reauth',
  HF_OAUTH_LINK_CONFLICT: 'conflict',
  HF_OAUTH_NOT_LINKED: 'not-linked',
  HF_OAUTH_LAST_METHOD: 'last',
  HF_CSRF: 'expired',
  HF_UNAUTHENTICATED: 'expired',
  HF_OAUTH_FAILED: 'failed',
};

function accountFailure(code: string, p: ResolvedProvider): string {
  return `/account?fail=${ACCOUNT_FAILURES[code] ?? 'failed'}&provider=${p.name}`;
}

function strategyName(provider: string): string {
  return `holdfast-oauth-${provider}`;
}

function oauthError(message: string): HoldfastError {
  return new HoldfastError('HF_OAUTH_FAILED', message);
}

/**
 * bell reports every failure as a Boom 500; sort them into what the browser is told. Anything
 * that is not a Boom (a bug in a profile function) stays a 500.
 */
function classify(
  p: ResolvedProvider,
  err: Error | null | undefined,
): { error: HoldfastError; cause: OAuthFailureCause } {
  if (!err || !(err as Boom.Boom).isBoom)
    throw err ?? new Error('bell neither signed in nor failed');
  const msg = err.message;
  if (msg.startsWith('Invalid setting')) throw err;
  if (msg.endsWith('state parameter')) {
    const error = new HoldfastError(
      'HF_CSRF',
      `sign-in with ${p.label} refused: the answer does not belong to the sign-in this browser started; start again`,
    );
    return { error, cause: 'state_mismatch' };
  }
  if (msg.endsWith('request token cookie')) {
    const error = new HoldfastError(
      'HF_CSRF',
      `sign-in with ${p.label} refused: it was not started in this browser, or took longer than ${OAUTH_STATE_TTL_MS / 60_000} minutes; start again`,
    );
    return { error, cause: 'state_missing' };
  }
  if (msg.startsWith('App rejected')) {
    const error = oauthError(`sign-in with ${p.label} was cancelled or refused: you can try again`);
    return { error, cause: 'denied' };
  }
  const error = oauthError(`${p.label} did not complete the sign-in: try again later`);
  return { error, cause: 'provider_error' };
}

function toProfile(p: ResolvedProvider, credentials: Credentials2): OAuthProfile | null {
  const raw = credentials.profile as Partial<OAuthProviderProfile> | undefined;
  if (!raw || typeof raw !== 'object') return null;
  const id =
    typeof raw.id === 'number' && Number.isSafeInteger(raw.id)
      ? String(raw.id)
      : typeof raw.id === 'string'
        ? raw.id
        : '';
  if (!id || id.length > 255) return null;
  return {
    provider: p.name,
    id,
    email: typeof raw.email === 'string' ? raw.email : undefined,
    emailVerified: raw.emailVerified === true,
    name: typeof raw.displayName === 'string' ? raw.displayName : undefined,
    label: p.label,
  };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** GET a JSON resource of the provider with the access token (which never reaches an error). */
async function getJson(
  url: string,
  token: string,
  provider: string,
  headers: Record<string, string> = {},
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { ...headers, authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
    });
  } catch {
    throw Boom.internal(`Failed obtaining ${provider} user emails: no answer`);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw Boom.internal(`Failed obtaining ${provider} user emails: status ${res.status}`);
  }
  try {
    return await res.json();
  } catch {
    throw Boom.internal(`Received invalid payload from ${provider} user emails`);
  }
}
