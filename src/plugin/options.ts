import Joi from 'joi';
import type { Logger } from 'pino';
import type { AccountService, EmailVerification, PasswordReset } from '../accounts';
import type { Settings } from '../config';
import { HoldfastError } from '../errors';
import type { SessionService } from '../session';
import { OAuthProviderOptions, PROVIDER_NAME } from './oauth';

export interface HoldfastPluginOptions {
  readonly settings: Settings;
  readonly sessions: SessionService;
  /**
   * The account rules over users and sessions, from createServices (a host app's own user store
   * goes there); its audit events are exposed as server.plugins.holdfast.events.
   */
  readonly accounts: AccountService;
  /**
   * Email verification from createServices (`services.verification`): serves POST
   * /auth/verify-email, /auth/verify-email/send and the /verify-email page. Without it (mail off)
   * those routes do not exist.
   */
  readonly verification?: EmailVerification | null;
  /** Logs audit events (never a token, password or email). */
  readonly logger?: Logger;
  /**
   * Password reset from createServices (services.passwordReset, present when mail is on): adds
   * POST /auth/password-reset, POST /auth/password-reset/confirm and the pages /forgot-password
   * and /reset-password. Absent: not offered.
   */
  readonly passwordReset?: PasswordReset | null;
  /** Make Holdfast the server's default auth strategy (default true). */
  readonly defaultStrategy?: boolean;
  /** Serve /login, /register, /account, /logout (default true). */
  readonly pages?: boolean;
  /**
   * Where a browser without a session goes on a protected page (a path, or false for a 401):
   * overrides the setting auth.redirectTo. Default: auth.redirectTo under this plugin's route
   * prefix when Holdfast serves the pages, off with `pages: false` (name your own login page).
   */
  readonly redirectTo?: string | false;
  /**
   * More OAuth providers by name (bell provider objects with their client credentials), each
   * served at /auth/oauth/{name}. One named `github` or `google` replaces the built-in one.
   */
  readonly oauthProviders?: Readonly<Record<string, OAuthProviderOptions>>;
}

const fn = (methods: string[]) =>
  Joi.object()
    .unknown(true)
    .custom((v, h) =>
      methods.every((m) => typeof v[m] === 'function') ? v : h.error('any.invalid'),
    )
    .messages({ 'any.invalid': `{{#label}} must implement ${methods.join(', ')}` });

const schema = Joi.object({
  settings: Joi.object({
    cookie: Joi.object().required(),
    session: Joi.object().required(),
    throttle: Joi.object().required(),
    password: Joi.object().required(),
    auth: Joi.object().required(),
  })
    .unknown(true)
    .required()
    .messages({ 'any.required': '{{#label}} is required: pass the Settings from loadSettings()' }),
  sessions: fn([
    'create',
    'authenticate',
    'revoke',
    'revokeAll',
    'list',
    'useRemember',
    'forget',
  ]).required(),
  accounts: fn([
    'register',
    'login',
    'logout',
    'changePassword',
    'oauthLogin',
    'reauthenticate',
    'linkIdentity',
    'unlinkIdentity',
  ])
    .required()
    .messages({
      'any.required': '{{#label}} is required: pass the accounts from createServices()',
    }),
  verification: fn(['verify', 'resend']).allow(null),
  logger: fn(['info', 'warn', 'error']),
  passwordReset: fn(['request', 'complete', 'isValid']).allow(null),
  // Hooks are account rules, so the API, pages, OAuth and CLI all run them (ADR 120).
  hooks: Joi.any().forbidden().messages({
    'any.unknown':
      '{{#label}} belong to the account service: pass them to createServices as its option hooks',
  }),
  defaultStrategy: Joi.boolean(),
  pages: Joi.boolean(),
  redirectTo: Joi.alternatives(
    Joi.valid(false),
    Joi.string()
      .pattern(/^\/(?![/\\])[^\s\\?#]*$/)
      .messages({ 'string.pattern.base': '{{#label}} must be a path on this site, like /login' }),
  ),
  oauthProviders: Joi.object()
    .pattern(
      PROVIDER_NAME,
      Joi.object({
        provider: Joi.object({
          protocol: Joi.valid('oauth2').required(),
          auth: Joi.alternatives(Joi.string().uri(), Joi.func()).required(),
          token: Joi.alternatives(Joi.string().uri(), Joi.func()).required(),
          profile: Joi.func().required().messages({
            'any.required':
              '{{#label}} is required: it must set credentials.profile (id, email, emailVerified)',
          }),
        })
          .unknown(true)
          .required(),
        clientId: Joi.string().min(1).required(),
        clientSecret: Joi.string().min(1).required(),
        label: Joi.string().min(1).max(40),
      }).messages({ 'object.unknown': '{{#label}} is not allowed' }),
    )
    .messages({
      'object.unknown':
        '{{#label}} is not a usable provider name (lower-case letters, digits and -, at most 32)',
    }),
});

/** Validates the plugin options; the error names every option that is wrong. */
export function validateOptions(options: unknown): HoldfastPluginOptions {
  const { value, error } = schema.validate(options, { abortEarly: false });
  if (error) {
    throw new HoldfastError(
      'HF_PLUGIN_OPTIONS',
      `holdfast plugin options: ${error.details.map((d) => d.message).join('; ')}`,
    );
  }
  const opts = value as HoldfastPluginOptions;
  if (!opts.settings.cookie.password) {
    throw new HoldfastError(
      'HF_PLUGIN_OPTIONS',
      'holdfast plugin options: settings.cookie.password is required (it keys the CSRF crumbs and OAuth state)',
    );
  }
  return opts;
}
