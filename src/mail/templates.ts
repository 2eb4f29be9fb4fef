/**
 * Message templates: plain text and HTML per kind. A host app replaces any of them (createServices
 * option `mailTemplates`): either strings with `{{name}}` placeholders, filled here (HTML-escaped
 * in `html`, as they are in `text` and `subject`), or a function that builds the message itself
 * (then escaping is its own job: escapeHtml is exported for it).
 */
export interface MailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Values a template may use: `link`, `email`, `name`, `site`, `expires`, `time`, ... */
export type MailValues = Readonly<Record<string, string>>;

export type MailTemplate = MailContent | ((values: MailValues) => MailContent);

export type MailTemplates = Readonly<Record<string, MailTemplate>>;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (c) => HTML_ESCAPES[c]);
}

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

function fill(template: string, values: MailValues, escape: (v: string) => string): string {
  return template.replace(PLACEHOLDER, (_m, name: string) =>
    Object.hasOwn(values, name) ? escape(values[name]) : '',
  );
}

/** Subject and text lines are one line each where a header needs it: no CR/LF smuggled in. */
const oneLine = (v: string) => v.replace(/[\r\n]+/g, ' ');

const layout = (body: string) =>
  `<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">${body}</body></html>`;

/** Holdfast's own messages; every kind the account features send has one. */
export const DEFAULT_TEMPLATES: MailTemplates = {
  reset: {
    subject: 'Reset your password',
    text: [
      'Someone (hopefully you) asked to reset the password of your account at {{site}}.',
      '',
      'To choose a new password, open this link within {{expires}}:',
      '{{link}}',
      '',
      'The link works once. If you did not ask for it, ignore this message: your password stays as it is.',
    ].join('\n'),
    html: layout(
      '<p>Someone (hopefully you) asked to reset the password of your account at {{site}}.</p>' +
        '<p>To choose a new password, open this link within {{expires}}:</p>' +
        '<p><a href="{{link}}">Choose a new password</a></p>' +
        '<p>The link works once. If you did not ask for it, ignore this message: your password stays as it is.</p>',
    ),
  },
  'password-changed': {
    subject: 'Your password was changed',
    text: [
      'The password of your account at {{site}} was changed on {{time}}, and every other device was signed out.',
      '',
      'If this was not you, reset your password now: {{resetLink}}',
    ].join('\n'),
    html: layout(
      '<p>The password of your account at {{site}} was changed on {{time}}, and every other device was signed out.</p>' +
        '<p>If this was not you, <a href="{{resetLink}}">reset your password now</a>.</p>',
    ),
  },
  'password-reset': {
    subject: 'Your password was reset',
    text: [
      'The password of your account at {{site}} was reset through an emailed link on {{time}}, and every device was signed out.',
      '',
      'If this was not you, reset your password again now and check who can read your email: {{resetLink}}',
    ].join('\n'),
    html: layout(
      '<p>The password of your account at {{site}} was reset through an emailed link on {{time}}, and every device was signed out.</p>' +
        '<p>If this was not you, <a href="{{resetLink}}">reset your password again now</a> and check who can read your email.</p>',
    ),
  },
  verify: {
    subject: 'Confirm your email address',
    text: [
      'Someone (hopefully you) created an account at {{site}} with this address.',
      '',
      'To confirm it is yours, open this link within {{expires}}:',
      '{{link}}',
      '',
      'The link works once. If you did not create the account, ignore this message.',
    ].join('\n'),
    html: layout(
      '<p>Someone (hopefully you) created an account at {{site}} with this address.</p>' +
        '<p>To confirm it is yours, open this link within {{expires}}:</p>' +
        '<p><a href="{{link}}">Confirm my email address</a></p>' +
        '<p>The link works once. If you did not create the account, ignore this message.</p>',
    ),
  },
  'identity-linked': {
    subject: 'A new way to sign in was added to your account',
    text: [
      'Your {{provider}} account was linked to your account at {{site}} on {{time}}: it now signs you in.',
      '',
      'If this was not you, sign in, unlink {{provider}} and sign out every other device: {{accountLink}}',
    ].join('\n'),
    html: layout(
      '<p>Your {{provider}} account was linked to your account at {{site}} on {{time}}: it now signs you in.</p>' +
        '<p>If this was not you, <a href="{{accountLink}}">sign in, unlink {{provider}}</a> and sign out every other device.</p>',
    ),
  },
  'remember-theft': {
    subject: 'We signed you out everywhere: a sign-in cookie was reused',
    text: [
      'On {{time}} a "keep me signed in" cookie of your account at {{site}} was used after it had already been replaced, which happens when a copy of it is used somewhere else.',
      '',
      'We signed you out on every device. If you did not expect this, change your password after signing in again: {{accountLink}}',
    ].join('\n'),
    html: layout(
      '<p>On {{time}} a "keep me signed in" cookie of your account at {{site}} was used after it had already been replaced, which happens when a copy of it is used somewhere else.</p>' +
        '<p>We signed you out on every device. If you did not expect this, <a href="{{accountLink}}">sign in again and change your password</a>.</p>',
    ),
  },
};

/** Renders a kind with the host app's template when it gave one, Holdfast's otherwise. */
export class MailRenderer {
  private readonly templates: MailTemplates;

  constructor(overrides: MailTemplates = {}) {
    for (const [kind, t] of Object.entries(overrides)) {
      const ok =
        typeof t === 'function' ||
        (t !== null &&
          typeof t === 'object' &&
          ['subject', 'text', 'html'].every(
            (f) => typeof (t as unknown as Record<string, unknown>)[f] === 'string',
          ));
      if (!ok)
        throw new TypeError(
          `mailTemplates.${kind} must be { subject, text, html } strings or a function returning them`,
        );
    }
    this.templates = { ...DEFAULT_TEMPLATES, ...overrides };
  }

  has(kind: string): boolean {
    return Object.hasOwn(this.templates, kind);
  }

  render(kind: string, values: MailValues): MailContent {
    if (!this.has(kind)) throw new TypeError(`no mail template for kind ${kind}`);
    const t = this.templates[kind];
    if (typeof t === 'function') {
      const c = t(values);
      return { subject: oneLine(c.subject), text: c.text, html: c.html };
    }
    return {
      subject: oneLine(fill(t.subject, values, (v) => v)),
      text: fill(t.text, values, (v) => v),
      html: fill(t.html, values, escapeHtml),
    };
  }
}
