import { hostPrefixed } from '../auth/cookies';
import type { Settings } from '../config';
import type { OAuthProviderInfo } from './context';

const err = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const body = (ref: string) => ({
  required: true,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const ok = (description: string, ref?: string) =>
  ref
    ? {
        description,
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
      }
    : { description };
const common = {
  '403': err('Cross-site request refused (HF_CSRF)'),
  '503': err('Session store unavailable (HF_STORE_UNAVAILABLE); retry after Retry-After'),
};
const authed = { ...common, '401': err('No valid session (HF_UNAUTHENTICATED)') };
const reauth = err(
  'No password (or provider) confirmation within auth.reauthWindow (HF_REAUTH_REQUIRED; the body names `reauth`: POST /auth/reauth), or cross-site (HF_CSRF)',
);

function providerParam(oauth: readonly OAuthProviderInfo[]) {
  return {
    name: 'provider',
    in: 'path',
    required: true,
    schema: oauth.length
      ? { type: 'string', enum: oauth.map((o) => o.name) }
      : { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' },
  };
}

/** Routes that hash or verify a password can also find this node's hashing queue full. */
const hashing = {
  '503': err(
    'Session store unavailable (HF_STORE_UNAVAILABLE), or too much password hashing waiting on this node (HF_BUSY); retry after Retry-After',
  ),
};

/** The OpenAPI 3.1 document served at /auth/openapi.json (docs/api.md says the same in prose). */
export function buildOpenApi(settings: Settings, oauth: readonly OAuthProviderInfo[] = []): object {
  const p = settings.password;
  const q = (name: string, description: string) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema: { type: 'string' },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Holdfast authentication API',
      version: '1',
      description:
        'Session cookie auth. State-changing requests must come from the same origin (Origin / Sec-Fetch-Site). Errors are JSON with a stable `code`.',
    },
    components: {
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: hostPrefixed(settings.cookie, settings.cookie.name),
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['statusCode', 'error', 'message', 'code'],
          properties: {
            statusCode: { type: 'integer' },
            error: { type: 'string' },
            message: { type: 'string' },
            code: { type: 'string', pattern: '^HF_' },
          },
        },
        User: {
          type: 'object',
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
          properties: {
            user: { $ref: '#/components/schemas/User' },
            session: { $ref: '#/components/schemas/Session' },
          },
        },
        Register: {
          type: 'object',
          required: ['email', 'password'],
          properties: {
            email: { type: 'string', maxLength: 254 },
            password: { type: 'string', minLength: p.minLength, maxLength: p.maxLength },
            name: { type: 'string', maxLength: 100 },
          },
        },
        Login: {
          type: 'object',
          required: ['email', 'password'],
          properties: {
            email: { type: 'string' },
            password: { type: 'string' },
            remember: { type: 'boolean', default: false },
          },
        },
        Reauth: {
          type: 'object',
          required: ['password'],
          properties: { password: { type: 'string' } },
        },
        Identities: {
          type: 'object',
          properties: {
            identities: {
              type: 'array',
              items: {
                type: 'object',
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
        PasswordChange: {
          type: 'object',
          required: ['currentPassword', 'newPassword'],
          properties: {
            currentPassword: { type: 'string' },
            newPassword: { type: 'string', minLength: p.minLength, maxLength: p.maxLength },
          },
        },
      },
    },
    paths: {
      '/auth/register': {
        post: {
          summary: 'Create an account and log in',
          requestBody: body('Register'),
          responses: {
            '201': ok('Created; session cookie set', 'UserAndSession'),
            '400': err('Invalid input (HF_USER_INVALID, HF_REQUEST_INVALID)'),
            '409': err('Email taken (HF_USER_EXISTS)'),
            '429': err(
              'Too many registrations from this address (HF_REGISTRATION_THROTTLED); see Retry-After',
            ),
            ...common,
            ...hashing,
          },
        },
      },
      '/auth/login': {
        post: {
          summary: 'Log in; `remember` also sets the remember-me cookie',
          requestBody: body('Login'),
          responses: {
            '200': ok('Logged in; new session cookie', 'UserAndSession'),
            '401': err('Wrong email or password (HF_LOGIN_FAILED)'),
            '429': err('Throttled (HF_LOGIN_THROTTLED); see Retry-After'),
            ...common,
            ...hashing,
          },
        },
      },
      '/auth/logout': {
        post: {
          summary: 'End this session and its remember-me series',
          responses: { '204': ok('Logged out; cookies cleared'), ...common },
        },
      },
      '/auth/me': {
        get: {
          summary: 'Who is logged in',
          security: [{ session: [] }],
          responses: { '200': ok('The user and this session', 'UserAndSession'), ...authed },
        },
      },
      '/auth/sessions': {
        get: {
          summary: "The user's live sessions",
          security: [{ session: [] }],
          responses: { '200': ok('{ sessions: Session[] }'), ...authed },
        },
        delete: {
          summary: 'End every session but this one (needs a recent authentication)',
          security: [{ session: [] }],
          responses: { '200': ok('{ revoked: number }'), ...authed, '403': reauth },
        },
      },
      '/auth/sessions/{id}': {
        delete: {
          summary: 'End one of your sessions',
          security: [{ session: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '204': ok('Ended'),
            '404': err('Not one of your sessions (HF_SESSION_NOT_FOUND)'),
            ...authed,
          },
        },
      },
      '/auth/password': {
        post: {
          summary: 'Change the password: other sessions end, this one gets a new id',
          security: [{ session: [] }],
          requestBody: body('PasswordChange'),
          responses: {
            '200': ok('Changed; new session cookie'),
            '400': err('New password rejected (HF_USER_INVALID)'),
            '429': err(
              'Too many wrong current passwords for this account or address (HF_LOGIN_THROTTLED); see Retry-After',
            ),
            ...authed,
            ...hashing,
            '403': err('Current password wrong (HF_PASSWORD_MISMATCH) or cross-site'),
          },
        },
      },
      '/auth/reauth': {
        post: {
          summary:
            'Confirm the password (re-authentication): this session is replaced by a new one (new cookie) that counts as recently authenticated for auth.reauthWindow',
          security: [{ session: [] }],
          requestBody: body('Reauth'),
          responses: {
            '200': ok('Confirmed; new session cookie. `{ session, reauthUntil }`'),
            '429': err('Throttled like a login (HF_LOGIN_THROTTLED); see Retry-After'),
            ...authed,
            '403': err(
              'Password wrong, or the account has none (HF_PASSWORD_MISMATCH; confirm through a linked provider instead), or cross-site',
            ),
          },
        },
      },
      '/auth/identities': {
        get: {
          summary: 'The OAuth provider accounts linked to this user',
          security: [{ session: [] }],
          responses: { '200': ok('Linked providers', 'Identities'), ...authed },
        },
      },
      '/auth/identities/{provider}': {
        delete: {
          summary:
            'Unlink the provider account (needs a recent authentication; never the last way to sign in)',
          security: [{ session: [] }],
          parameters: [
            { name: 'provider', in: 'path', required: true, schema: { type: 'string' } },
          ],
          responses: {
            '204': ok('Unlinked'),
            '404': err('No account of this provider is linked (HF_OAUTH_NOT_LINKED)'),
            '409': err('The only way left to sign in (HF_OAUTH_LAST_METHOD)'),
            ...authed,
            '403': reauth,
          },
        },
      },
      '/auth/oauth/{provider}/link': {
        post: {
          summary:
            'Start linking a provider account to this user (browser navigation; needs a recent authentication)',
          description:
            "Sets a short-lived signed intent cookie bound to this session and answers 303 to `/auth/oauth/{provider}?intent=…`; the provider's callback then links its account to this user (303 to /account, or oauth.redirectTo without pages).",
          security: [{ session: [] }],
          parameters: [providerParam(oauth)],
          responses: {
            '303': ok('Go to the provider'),
            '404': err('No such provider configured (HF_REQUEST_INVALID)'),
            '409': err(
              'A provider account of this kind is already linked (HF_OAUTH_LINK_CONFLICT)',
            ),
            ...authed,
            '403': reauth,
          },
        },
      },
      '/auth/oauth/{provider}/reauth': {
        post: {
          summary:
            'Re-authenticate through a linked provider account (browser navigation): for accounts without a password',
          description:
            'Like /link; on the callback, the provider account must be linked to this user (else 404 HF_OAUTH_NOT_LINKED); the session is replaced by a new one (method oauth).',
          security: [{ session: [] }],
          parameters: [providerParam(oauth)],
          responses: {
            '303': ok('Go to the provider'),
            '404': err('No such provider, or none of it linked (HF_OAUTH_NOT_LINKED)'),
            ...authed,
          },
        },
      },
      '/auth/oauth/{provider}': {
        get: {
          summary:
            'Sign in with an OAuth provider: starts the sign-in and receives the provider callback (browser navigation)',
          description:
            "Without `code`: redirects (302) to the provider with a fresh `state` and PKCE challenge, and sets a short-lived state cookie; must be started from this site (Origin / Sec-Fetch-Site). With `code` and `state`: the provider callback; the state must match this browser's cookie. A verified email creates or links the account; the browser gets a new session (method `oauth`; any session it had ends) and is redirected (303) to `oauth.redirectTo`. Failures answer the login page (Accept: text/html, pages on) or an Error JSON.",
          parameters: [
            providerParam(oauth),
            q('code', 'authorization code (callback only)'),
            q('state', 'the state sent to the provider (callback only)'),
            q('error', 'the provider refused or failed (callback only), e.g. access_denied'),
            q('intent', 'set by POST …/link or …/reauth: matched with the signed intent cookie'),
          ],
          responses: {
            '200': ok('A same-site refresh page (the state cookie was not sent: retried once)'),
            '302': ok('Sign-in started: redirect to the provider'),
            '303': ok('Signed in: new session cookie, redirect to oauth.redirectTo'),
            '403': err(
              'Refused: consent denied, provider error or unverified email (HF_OAUTH_FAILED); state mismatch or missing, started from another site, or an intent that does not verify (HF_CSRF); a link whose confirmation expired (HF_REAUTH_REQUIRED)',
            ),
            '409': err(
              'The verified email belongs to an account this provider account is not linked to (HF_OAUTH_LINK_REQUIRED: sign in, then link from /account); a link to an account linked elsewhere (HF_OAUTH_LINK_CONFLICT)',
            ),
            '404': err('No such provider configured (HF_REQUEST_INVALID)'),
            '503': common['503'],
          },
        },
      },
      '/auth/openapi.json': {
        get: { summary: 'This document', responses: { '200': ok('OpenAPI 3.1') } },
      },
    },
  };
}
