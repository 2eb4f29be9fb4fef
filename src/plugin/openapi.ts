import type { RequestRoute } from '@hapi/hapi';
import { hostPrefixed } from '../auth/cookies';
import type { Settings } from '../config';
import type { OAuthProviderInfo } from './context';

/**
 * The OpenAPI 3.1 document served at /auth/openapi.json, generated from the routes hapi really
 * serves (server.table()): paths (with the plugin's route prefix), methods, request bodies and
 * parameters come from each route's validators, and the answers every route of its kind can give
 * (400/413/415 for a body, 403 cross-site, 401 without a session, 503 when the store is away) from
 * its options. Only what no route option says is written by hand, in OPERATIONS below: the
 * operation id, the summary and the answers of its handler. A route without an entry there fails
 * the build of the document (and test/unit/plugin/openapi.test.ts), so the two cannot drift.
 */

type Json = Record<string, unknown>;
type Responses = Record<string, Json>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (name: string) => ({ 'application/json': { schema: ref(name) } });
const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};
const LOCATION = {
  Location: { description: 'Where the browser goes next', schema: { type: 'string' } },
};

/** An answer with a JSON body of the named schema. */
const ok = (description: string, schema: string) => ({ description, content: jsonBody(schema) });
/** An answer without a body (204) or a redirect (Location). */
const empty = (description: string) => ({ description });
const redirect = (description: string) => ({ description, headers: LOCATION });
/** An error answer: JSON with a stable code (retry statuses say when to retry). */
const err = (description: string) => ({ description });

/** What a route's handler can answer, beyond what its options imply. */
interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  /** The route never reads the store (no 503). */
  readonly static?: boolean;
  /** Documented parameters the route reads without a validator (OAuth callbacks). */
  readonly parameters?: (oauth: readonly OAuthProviderInfo[]) => Json[];
  readonly responses: Responses;
  /**
   * The route ends sessions: with store.redis.durability it can answer 202 when the ending is not
   * yet acknowledged by replicas (ADR 215), with its 2xx body.
   */
  readonly revokes?: boolean;
}

const DURABILITY_PENDING = {
  'Holdfast-Durability': {
    description:
      '`pending`: done on the master, not yet acknowledged by store.redis.durability.replicas replicas (a failover now may undo it)',
    schema: { type: 'string', enum: ['pending'] },
  },
};

const hashing = '503:HF_BUSY';
/** The handler answers: statuses whose errors the descriptions name. */
const OPERATIONS: Record<string, Operation> = {
  'post /auth/register': {
    operationId: 'register',
    summary: 'Create an account and log in',
    responses: {
      '201': ok(
        'Created; session cookie set. With accounts.requireVerifiedEmail: no session (`session` null, `verificationRequired` true) until the mailed link is followed',
        'Registered',
      ),
      '400': err('The password policy or the address refused it (HF_USER_INVALID)'),
      '403': err(
        "The host app's beforeRegister hook refused it, with its message (HF_REGISTRATION_REFUSED)",
      ),
      '409': err('Email taken (HF_USER_EXISTS)'),
      '429': err('Too many registrations from this address (HF_REGISTRATION_THROTTLED)'),
      [hashing]: err('Too much password hashing waiting on this node (HF_BUSY)'),
    },
  },
  'post /auth/login': {
    operationId: 'login',
    summary: 'Log in; `remember` also sets the remember-me cookie',
    responses: {
      '200': ok('Logged in; new session cookie', 'UserAndSession'),
      '401': err(
        'Wrong email or password (HF_LOGIN_FAILED), or the password changed elsewhere (HF_CREDENTIALS_CHANGED)',
      ),
      '403': err(
        "The account is disabled (HF_ACCOUNT_DISABLED), its address is not verified while accounts.requireVerifiedEmail is on (HF_EMAIL_UNVERIFIED: POST /auth/verify-email/send), or the host app's beforeLogin hook refused the sign-in, with its message (HF_LOGIN_REFUSED)",
      ),
      '429': err('Throttled (HF_LOGIN_THROTTLED)'),
      [hashing]: err('Too much password hashing waiting on this node (HF_BUSY)'),
    },
  },
  'post /auth/logout': {
    operationId: 'logout',
    summary: 'End this session and its remember-me series',
    revokes: true,
    responses: { '204': empty('Logged out; cookies cleared') },
  },
  'get /auth/me': {
    operationId: 'me',
    summary: 'Who is logged in',
    responses: { '200': ok('The user and this session', 'UserAndSession') },
  },
  'get /auth/sessions': {
    operationId: 'listSessions',
    summary: "The user's live sessions",
    responses: { '200': ok('The sessions, this one marked `current`', 'SessionList') },
  },
  'delete /auth/sessions': {
    operationId: 'revokeOtherSessions',
    summary: 'End every session but this one (needs a recent authentication)',
    revokes: true,
    responses: {
      '200': ok('How many sessions ended', 'Revoked'),
      '403': err(
        'No password (or provider) confirmation within auth.reauthWindow (HF_REAUTH_REQUIRED; the body names `reauth`: POST /auth/reauth)',
      ),
    },
  },
  'delete /auth/sessions/{id}': {
    operationId: 'revokeSession',
    summary: 'End one of your sessions',
    revokes: true,
    responses: {
      '204': empty('Ended'),
      '404': err('Not one of your sessions (HF_SESSION_NOT_FOUND)'),
    },
  },
  'post /auth/password': {
    operationId: 'changePassword',
    summary: 'Change the password: other sessions end, this one gets a new id',
    revokes: true,
    responses: {
      '200': ok('Changed; new session cookie', 'SessionOnly'),
      '400': err('New password rejected by the password policy (HF_USER_INVALID)'),
      '403': err(
        'Current password wrong (HF_PASSWORD_MISMATCH), or the account was disabled meanwhile (HF_ACCOUNT_DISABLED)',
      ),
      '429': err(
        'Too many wrong current passwords for this account or address (HF_LOGIN_THROTTLED)',
      ),
      [hashing]: err('Too much password hashing waiting on this node (HF_BUSY)'),
    },
  },
  'post /auth/reauth': {
    operationId: 'reauthenticate',
    summary:
      'Confirm the password (re-authentication): this session is replaced by a new one (new cookie) that counts as recently authenticated for auth.reauthWindow',
    responses: {
      '200': ok('Confirmed; new session cookie', 'Reauthenticated'),
      '403': err(
        'Password wrong, or the account has none (HF_PASSWORD_MISMATCH; confirm through a linked provider instead), or the account was disabled meanwhile (HF_ACCOUNT_DISABLED)',
      ),
      '429': err('Throttled like a login (HF_LOGIN_THROTTLED)'),
      [hashing]: err('Too much password hashing waiting on this node (HF_BUSY)'),
    },
  },
  'post /auth/password-reset': {
    operationId: 'requestPasswordReset',
    summary:
      'Ask for a password reset link by email: the same answer, after the same work, whether or not an account has the address',
    description:
      'The lookup and the mail happen after the answer. The message links to the reset page (mail.linkBase + /reset-password?token=…), valid for tokens.resetTtl, once; only the newest link works, and a later sign-in or password change ends it. Offered only when mail is on.',
    responses: {
      '202': ok('Accepted (whether or not an account has the address)', 'ResetRequested'),
      '400': err('Not an email address (HF_USER_INVALID)'),
      '429': err('Too many requests for this address or from this client (HF_RESET_THROTTLED)'),
    },
  },
  'post /auth/password-reset/confirm': {
    operationId: 'confirmPasswordReset',
    summary:
      "Set a new password with the emailed link's token: every session and remember-me series of the account ends",
    revokes: true,
    description:
      'The token is checked before the password policy, and used only when both pass: a refused password leaves the link working; a bad token changes nothing. Sign in with the new password afterwards.',
    responses: {
      '200': ok('The password is set; every session ended', 'ResetDone'),
      '400': err(
        'The token is not valid: unknown, tampered, expired, used, replaced, of another kind or ended by a later sign-in (HF_ACCOUNT_TOKEN_INVALID); or the password policy refused the password (HF_USER_INVALID)',
      ),
      [hashing]: err('Too much password hashing waiting on this node (HF_BUSY)'),
    },
  },
  'delete /auth/account': {
    operationId: 'deleteAccount',
    summary:
      'Delete your own account (needs a recent authentication): every session ends, the cookies are cleared',
    revokes: true,
    responses: {
      '204': empty('Deleted; cookies cleared'),
      '403': err(
        'No recent authentication (HF_REAUTH_REQUIRED; the body names `reauth`), or the account is disabled (HF_ACCOUNT_DISABLED)',
      ),
    },
  },
  'get /auth/identities': {
    operationId: 'listIdentities',
    summary: 'The OAuth provider accounts linked to this user',
    responses: { '200': ok('Linked providers', 'Identities') },
  },
  'delete /auth/identities/{provider}': {
    operationId: 'unlinkIdentity',
    summary:
      'Unlink the provider account (needs a recent authentication; never the last way to sign in)',
    responses: {
      '204': empty('Unlinked'),
      '403': err('No recent authentication (HF_REAUTH_REQUIRED)'),
      '404': err('No account of this provider is linked (HF_OAUTH_NOT_LINKED)'),
      '409': err('The only way left to sign in (HF_OAUTH_LAST_METHOD)'),
    },
  },
  'post /auth/oauth/{provider}/link': {
    operationId: 'startOAuthLink',
    summary:
      'Start linking a provider account to this user (browser navigation; needs a recent authentication)',
    description:
      "Sets a short-lived signed intent cookie bound to this session and answers 303 to `/auth/oauth/{provider}?intent=…`; the provider's callback then links its account to this user (303 to /account, or oauth.redirectTo without pages).",
    parameters: (oauth) => [providerParam(oauth)],
    responses: {
      '303': redirect('Go to the provider'),
      '403': err('No recent authentication (HF_REAUTH_REQUIRED)'),
      '404': err('No such provider configured (HF_REQUEST_INVALID)'),
      '409': err('A provider account of this kind is already linked (HF_OAUTH_LINK_CONFLICT)'),
    },
  },
  'post /auth/oauth/{provider}/reauth': {
    operationId: 'startOAuthReauth',
    summary:
      'Re-authenticate through a linked provider account (browser navigation): for accounts without a password',
    description:
      'Like /link; on the callback, the provider account must be linked to this user (else 404 HF_OAUTH_NOT_LINKED); the session is replaced by a new one (method oauth).',
    parameters: (oauth) => [providerParam(oauth)],
    responses: {
      '303': redirect('Go to the provider'),
      '404': err('No such provider, or none of it linked (HF_OAUTH_NOT_LINKED)'),
    },
  },
  'get /auth/oauth/{provider}': {
    operationId: 'oauthSignIn',
    summary:
      'Sign in with an OAuth provider: starts the sign-in and receives the provider callback (browser navigation)',
    description:
      "Without `code`: redirects (302) to the provider with a fresh `state` and PKCE challenge, and sets a short-lived state cookie; must be started from this site (Origin / Sec-Fetch-Site). With `code` and `state`: the provider callback; the state must match this browser's cookie. A verified email creates or links the account; the browser gets a new session (method `oauth`; any session it had ends) and is redirected (303) to `oauth.redirectTo`. Failures answer the login page (Accept: text/html, pages on) or an Error JSON.",
    parameters: (oauth) => [
      providerParam(oauth),
      query('code', 'authorization code (callback only)'),
      query('state', 'the state sent to the provider (callback only)'),
      query('error', 'the provider refused or failed (callback only), e.g. access_denied'),
      query('intent', 'set by POST …/link or …/reauth: matched with the signed intent cookie'),
    ],
    responses: {
      '200': {
        description: 'A same-site refresh page (the state cookie was not sent: retried once)',
        content: { 'text/html': { schema: { type: 'string' } } },
      },
      '302': redirect('Sign-in started: redirect to the provider'),
      '303': redirect('Signed in: new session cookie, redirect to oauth.redirectTo'),
      '403': err(
        'Refused: consent denied, provider error or unverified email (HF_OAUTH_FAILED); state mismatch or missing, started from another site, or an intent that does not verify (HF_CSRF); a link whose confirmation expired (HF_REAUTH_REQUIRED)',
      ),
      '404': err('No such provider configured (HF_REQUEST_INVALID)'),
      '409': err(
        'The verified email belongs to an account this provider account is not linked to (HF_OAUTH_LINK_REQUIRED: sign in, then link from /account); a link to an account linked elsewhere (HF_OAUTH_LINK_CONFLICT)',
      ),
    },
  },
  'post /auth/verify-email': {
    operationId: 'verifyEmail',
    summary: 'Use an email verification link: its token marks the address verified (single use)',
    description:
      'Served when mail is on. The mailed link opens the /verify-email page, which posts the token here (a GET never uses it). Valid only while the account has the address it was mailed to and is enabled; when signed in, only for your own account.',
    responses: {
      '200': ok('Verified', 'UserOnly'),
      '400': err(
        'The token is unknown, expired, used, replaced, tampered, of another kind or another account (HF_ACCOUNT_TOKEN_INVALID); nothing changed',
      ),
    },
  },
  'post /auth/verify-email/send': {
    operationId: 'sendVerification',
    summary:
      'Mail the verification link again: to the signed-in user, or to the account of `email`',
    description:
      'Served when mail is on. The same 202 whether or not an account has the address (or is verified already); the message is sent off the request path.',
    responses: {
      '202': ok('Accepted', 'Accepted'),
      '429': err(
        'Asked too often for this account (throttle.verifyPerAccount) or from this address (throttle.verifyPerAddress) (HF_VERIFY_THROTTLED)',
      ),
    },
  },
  'get /auth/openapi.json': {
    operationId: 'openapi',
    summary: 'This document',
    static: true,
    responses: { '200': ok('OpenAPI 3.1', 'OpenApiDocument') },
  },
};

function providerParam(oauth: readonly OAuthProviderInfo[]): Json {
  return {
    name: 'provider',
    in: 'path',
    required: true,
    schema: oauth.length
      ? { type: 'string', enum: oauth.map((o) => o.name) }
      : { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' },
  };
}

function query(name: string, description: string): Json {
  return { name, in: 'query', required: false, description, schema: { type: 'string' } };
}

/** The routes the document describes: the plugin's JSON API and OAuth routes (not its pages). */
export function documentedRoutes(routes: readonly RequestRoute[]): RequestRoute[] {
  return routes.filter((r) => {
    const tags = r.settings.tags ?? [];
    return (
      r.realm.plugin === 'holdfast' && (tags.includes('api') || tags.includes('holdfast-oauth'))
    );
  });
}

/**
 * The document for the routes hapi serves (server.table()). `prefix` is the plugin's route prefix:
 * OPERATIONS is keyed by the path without it, the document shows the path as served. A provider's
 * own sign-in route (/auth/oauth/github) is the `{provider}` operation with that value.
 */
export function buildOpenApi(
  settings: Settings,
  oauth: readonly OAuthProviderInfo[],
  routes: readonly RequestRoute[],
  prefix = '',
): Json {
  const providerPaths = new Set(oauth.map((o) => o.path));
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of documentedRoutes(routes)) {
    let path = route.path.slice(prefix.length);
    if (route.method === 'get' && providerPaths.has(path)) path = '/auth/oauth/{provider}';
    const key = `${route.method} ${path}`;
    const op = OPERATIONS[key];
    if (!op) {
      throw new Error(
        `openapi: ${key} is served but has no entry in OPERATIONS (src/plugin/openapi.ts)`,
      );
    }
    (paths[prefix + path] ??= {})[route.method] = operation(route, op, oauth);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Holdfast authentication API',
      version: '1',
      description:
        'Session cookie auth. State-changing requests must come from the same origin (Origin / Sec-Fetch-Site). Errors are JSON with a stable `code` (docs/errors.md).',
    },
    components: {
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: hostPrefixed(settings.cookie, settings.cookie.name),
        },
      },
      schemas: SCHEMAS,
    },
    paths,
  };
}

/** One operation: the validators' request, then every answer the route's options imply. */
function operation(route: RequestRoute, op: Operation, oauth: readonly OAuthProviderInfo[]): Json {
  const s = route.settings;
  const validate = (s.validate ?? {}) as Record<string, unknown>;
  const auth = s.auth as { mode?: string } | false | undefined;
  const required = !!auth && auth.mode === 'required';
  const withBody = route.method !== 'get';
  const payloadSchema = joiOf(validate.payload);

  const implied: Array<[string, string]> = [];
  if (withBody) {
    implied.push(['403', 'Cross-site request refused (HF_CSRF)']);
    implied.push([
      '400',
      payloadSchema || joiOf(validate.params)
        ? 'The body is not valid JSON, or a field or path parameter is missing or invalid (HF_REQUEST_INVALID)'
        : 'The body is not valid JSON (HF_REQUEST_INVALID)',
    ]);
    implied.push([
      '413',
      `The body is larger than ${s.payload?.maxBytes ?? 1_048_576} bytes (HF_REQUEST_INVALID)`,
    ]);
    const allow = s.payload?.allow;
    implied.push([
      '415',
      `A body without Content-Type, or of another type than ${allow ? [allow].flat().join(', ') : 'JSON, a form or text'} (HF_REQUEST_INVALID)`,
    ]);
  } else if (joiOf(validate.params) || joiOf(validate.query)) {
    implied.push(['400', 'A path or query parameter is invalid (HF_REQUEST_INVALID)']);
  }
  if (required) implied.push(['401', 'No valid session (HF_UNAUTHENTICATED)']);
  if (!op.static) {
    implied.push([
      '503',
      'Session store unavailable (HF_STORE_UNAVAILABLE) or full (HF_STORE_FULL); retry after Retry-After, the session is kept',
    ]);
  }

  const responses: Responses = {};
  for (const [status, answer] of Object.entries(op.responses)) {
    const code = status.split(':')[0];
    responses[code] = merge(responses[code], answer);
  }
  for (const [code, description] of implied)
    responses[code] = merge(responses[code], err(description));
  const done = responses['200'] ?? responses['204'];
  if (op.revokes && done) {
    responses['202'] = {
      ...done,
      description: `${done.description}, but the ending is not yet acknowledged by replicas (Holdfast-Durability: pending; docs/reliability.md, "Durability")`,
      headers: DURABILITY_PENDING,
    };
  }
  for (const [code, answer] of Object.entries(responses)) {
    if (Number(code) >= 400) {
      answer.content = jsonBody('Error');
      if (code === '429' || code === '503') answer.headers = RETRY_AFTER;
    }
  }

  const parameters = [
    ...(op.parameters?.(oauth) ?? []),
    ...parametersOf(validate.params, 'path'),
    ...parametersOf(validate.query, 'query'),
  ];
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: ['holdfast'],
    ...(required ? { security: [{ session: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(payloadSchema
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: toJsonSchema(payloadSchema) } },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** Two answers with the same status: both descriptions, in that order. */
function merge(a: Json | undefined, b: Json): Json {
  return a
    ? { ...a, ...b, description: `${a.description as string}; ${b.description as string}` }
    : { ...b };
}

/** A joi validator's description (hapi keeps the compiled schema on route.settings.validate). */
interface JoiDescription {
  type: string;
  flags?: { presence?: string; description?: string; default?: unknown; only?: boolean };
  keys?: Record<string, JoiDescription>;
  rules?: Array<{ name: string; args?: { limit?: number; regex?: string } }>;
  allow?: unknown[];
}

function joiOf(schema: unknown): JoiDescription | null {
  return schema && typeof (schema as { describe?: unknown }).describe === 'function'
    ? ((schema as { describe: () => JoiDescription }).describe() as JoiDescription)
    : null;
}

function parametersOf(schema: unknown, where: 'path' | 'query'): Json[] {
  const d = joiOf(schema);
  return Object.entries(d?.keys ?? {}).map(([name, key]) => ({
    name,
    in: where,
    required: where === 'path' || key.flags?.presence === 'required',
    schema: toJsonSchema(key),
    ...(key.flags?.description ? { description: key.flags.description } : {}),
  }));
}

/**
 * JSON Schema for the joi types the routes use. Another type throws: the document must not
 * guess what a validator accepts.
 */
export function toJsonSchema(d: JoiDescription): Json {
  const out: Json = {};
  if (d.flags?.description) out.description = d.flags.description;
  if (d.flags?.default !== undefined) out.default = d.flags.default;
  switch (d.type) {
    case 'object': {
      const keys = Object.entries(d.keys ?? {});
      out.type = 'object';
      out.properties = Object.fromEntries(keys.map(([k, v]) => [k, toJsonSchema(v)]));
      const required = keys.filter(([, v]) => v.flags?.presence === 'required').map(([k]) => k);
      if (required.length) out.required = required;
      out.additionalProperties = false;
      return out;
    }
    case 'string': {
      out.type = 'string';
      // joi refuses '' unless allowed: that is a minimum length of 1.
      if (!(d.allow ?? []).includes('')) out.minLength = 1;
      for (const rule of d.rules ?? []) {
        if (rule.name === 'min') out.minLength = rule.args?.limit;
        else if (rule.name === 'max') out.maxLength = rule.args?.limit;
        else if (rule.name === 'pattern')
          out.pattern = String(rule.args?.regex).replace(/^\/|\/[a-z]*$/g, '');
        else throw new Error(`openapi: no JSON Schema for the joi string rule ${rule.name}`);
      }
      return out;
    }
    case 'boolean':
      out.type = 'boolean';
      return out;
    default:
      throw new Error(`openapi: no JSON Schema for the joi type ${d.type}`);
  }
}

const SCHEMAS = {
  Error: {
    type: 'object',
    required: ['statusCode', 'error', 'message', 'code'],
    properties: {
      statusCode: { type: 'integer' },
      error: { type: 'string' },
      message: { type: 'string' },
      code: { type: 'string', pattern: '^HF_' },
      reauth: {
        type: 'string',
        description: 'With HF_REAUTH_REQUIRED: where to confirm (POST this path)',
      },
    },
  },
  User: {
    type: 'object',
    required: ['id', 'email', 'emailVerified', 'createdAt'],
    properties: {
      id: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      emailVerified: { type: 'boolean' },
      createdAt: { type: 'string', format: 'date-time' },
    },
  },
  Session: {
    type: 'object',
    required: [
      'id',
      'current',
      'method',
      'createdAt',
      'lastSeenAt',
      'expiresAt',
      'absoluteExpiresAt',
      'ip',
      'userAgent',
    ],
    properties: {
      id: { type: 'string' },
      current: { type: 'boolean' },
      method: { type: 'string', enum: ['password', 'remember', 'oauth', 'rotation'] },
      createdAt: { type: 'string', format: 'date-time' },
      lastSeenAt: { type: 'string', format: 'date-time' },
      expiresAt: { type: 'string', format: 'date-time' },
      absoluteExpiresAt: { type: 'string', format: 'date-time' },
      ip: { type: 'string', description: "'' when the address was not an IP address" },
      userAgent: {
        type: 'string',
        description:
          'A device label made from the User-Agent header at sign-in, e.g. "Firefox 130 on Linux" (at most 48 bytes; the raw header is not stored)',
      },
    },
  },
  UserAndSession: {
    type: 'object',
    required: ['user', 'session'],
    properties: { user: ref('User'), session: ref('Session') },
  },
  Registered: {
    type: 'object',
    required: ['user', 'session'],
    properties: {
      user: ref('User'),
      session: { oneOf: [ref('Session'), { type: 'null' }] },
      verificationRequired: {
        type: 'boolean',
        description: 'true: no session until the mailed verification link is followed',
      },
    },
  },
  UserOnly: { type: 'object', required: ['user'], properties: { user: ref('User') } },
  Accepted: { type: 'object', required: ['accepted'], properties: { accepted: { const: true } } },
  SessionOnly: {
    type: 'object',
    required: ['session'],
    properties: { session: ref('Session') },
  },
  SessionList: {
    type: 'object',
    required: ['sessions'],
    properties: { sessions: { type: 'array', items: ref('Session') } },
  },
  ResetRequested: {
    type: 'object',
    required: ['message'],
    properties: {
      message: {
        type: 'string',
        description:
          'The same text for every address: if an account has it, a message is on its way',
      },
    },
  },
  ResetDone: {
    type: 'object',
    required: ['revokedSessions'],
    properties: {
      revokedSessions: { type: 'integer', minimum: 0, description: 'Sessions that ended' },
    },
  },
  Revoked: {
    type: 'object',
    required: ['revoked'],
    properties: { revoked: { type: 'integer', minimum: 0, description: 'Sessions ended' } },
  },
  Reauthenticated: {
    type: 'object',
    required: ['session', 'reauthUntil'],
    properties: {
      session: ref('Session'),
      reauthUntil: { type: 'string', format: 'date-time' },
    },
  },
  Identities: {
    type: 'object',
    required: ['identities', 'reauthUntil'],
    properties: {
      identities: {
        type: 'array',
        items: {
          type: 'object',
          required: ['provider', 'label'],
          properties: { provider: { type: 'string' }, label: { type: 'string' } },
        },
      },
      reauthUntil: {
        type: ['string', 'null'],
        format: 'date-time',
        description:
          'Until when this session counts as recently authenticated (auth.reauthWindow), null when it does not',
      },
    },
  },
  OpenApiDocument: {
    type: 'object',
    required: ['openapi', 'info', 'paths'],
    properties: {
      openapi: { type: 'string' },
      info: { type: 'object' },
      paths: { type: 'object' },
    },
  },
};
