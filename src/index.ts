/**
 * The package's public surface: what a Hapi team imports to use Holdfast in its own server
 * (README "Use in your Hapi server"). The `holdfast` command lives in cli/.
 */
export { loadSettings, redactedSettings } from './config';
export type { LoadOptions, Settings } from './config';
export * from './errors';
export { createServices } from './server/services';
export type { Services, ServicesOptions } from './server/services';
export { AccountAdmin, AccountService, parsePwnedRange } from './accounts';
export type { AccountSummary, UserRef } from './accounts';
export type { AuthEvents, BreachedPasswordLookup, BreachedSuffix } from './accounts';
export type { AccountHooks, HookRefusal } from './accounts';
export { DEFAULT_TEMPLATES, escapeHtml, SmtpMailer } from './mail';
export type { Mailer, MailMessage, MailContent, MailTemplate, MailTemplates } from './mail';
export { holdfastPlugin } from './plugin';
export type { HoldfastExposed, HoldfastPluginOptions } from './plugin';
export { runPreflight, PreflightError } from './preflight/public';
export type { LibraryPreflightOptions, PreflightReport } from './preflight/public';
export { holdfastCookieValidate } from './auth';
export type { HoldfastCredentials } from './auth';
export type { StoredSession } from './store/engine';
