import type { Settings } from '../config';

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

/** The OpenAPI 3.1 document served at /auth/openapi.json (docs/api.md says the same in prose). */
export function buildOpenApi(settings: Settings): object {
  const p = settings.password;
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
          name: settings.cookie.secure ? `__Host-${settings.cookie.name}` : settings.cookie.name,
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
            ip: { type: 'string' },
            userAgent: { type: 'string' },
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
            ...common,
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
          summary: 'End every session but this one',
          security: [{ session: [] }],
          responses: { '200': ok('{ revoked: number }'), ...authed },
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
            ...authed,
            '403': err('Current password wrong (HF_PASSWORD_MISMATCH) or cross-site'),
          },
        },
      },
      '/auth/openapi.json': {
        get: { summary: 'This document', responses: { '200': ok('OpenAPI 3.1') } },
      },
    },
  };
}
