/**
 * Every error code Holdfast raises, in one place (docs/errors.md lists the same set; a test keeps
 * them equal). Codes are stable: tools and dashboards may match on them.
 */
export const ErrorCodes = {
  HF_CONFIG_INVALID: 'One or more settings are invalid; each problem names the setting.',
  HF_CONFIG_FILE: 'The settings file could not be read or parsed.',
  HF_STORE_UNAVAILABLE: 'The session store could not be reached or did not answer in time.',
  HF_STORE_FULL:
    'The session store refused a write because it reached maxmemory (noeviction); sessions already made keep working.',
  HF_STORE_NOT_SHARED:
    'A command that reads or changes stored data ran on the in-process store (store.type memory), which no server shares.',
  HF_RESHARD_REFUSED:
    'holdfast store reshard was refused: the shard count asked for is no larger multiple of the recorded one, or a split to another count is running.',
  HF_FORMAT_UPGRADE_REFUSED:
    'holdfast store upgrade-format was refused: a node of a Holdfast version that cannot read the new format is still connected, or the store records a format this version does not read.',
  HF_STORE_SCRIPT:
    'A store Lua script failed for a reason other than the store being unreachable (a script error, a key of the wrong type).',
  HF_PREFLIGHT_FAILED: 'A start-up check of the settings or the store failed.',
  HF_WORKER_CRASH_LOOP:
    'Workers kept dying soon after start; the node stopped instead of restarting them forever.',
  HF_USER_EXISTS: 'A user with this email address already exists.',
  HF_USER_INVALID: 'User input was rejected (email or password does not meet the rules).',
  HF_LOGIN_FAILED: 'The email address or password is wrong.',
  HF_LOGIN_THROTTLED:
    'Too many failed logins or current-password confirmations for this account or address; retry later.',
  HF_REGISTRATION_THROTTLED: 'Too many registrations from this client address; retry later.',
  HF_BUSY: 'Too much password hashing is waiting on this server; retry after a moment.',
  HF_CSRF: 'A state-changing request came from another origin or without a valid crumb.',
  HF_UNAUTHENTICATED:
    'The request has no valid session (none, expired, revoked, or a token that is malformed or does not match).',
  HF_SESSION_NOT_FOUND: 'The session named in the request does not exist or is not yours.',
  HF_REQUEST_INVALID:
    'The request body, query or parameters failed validation; the message names the field.',
  HF_PASSWORD_MISMATCH: 'The current password given to confirm an account change is wrong.',
  HF_CREDENTIALS_CHANGED:
    "The account's password changed (or the account was disabled) while signing in or changing it.",
  HF_ACCOUNT_DISABLED: 'The account is disabled; the right password does not sign it in.',
  HF_OAUTH_FAILED:
    'Signing in with an OAuth provider failed or the provider gave no verified email.',
  HF_OAUTH_LINK_REQUIRED:
    "An account with the provider's email exists but this provider is not linked to it; sign in and link it from the account page.",
  HF_OAUTH_LINK_CONFLICT:
    'The provider account is linked to another user, or this account already has one of that provider.',
  HF_OAUTH_NOT_LINKED: 'No account of this provider is linked to this user.',
  HF_OAUTH_LAST_METHOD:
    'Unlinking refused: it is the only way left to sign in to this account (no password, no other provider).',
  HF_REAUTH_REQUIRED:
    'This change needs a password (or provider) confirmation within auth.reauthWindow: re-authenticate first.',
  HF_REGISTRATION_REFUSED:
    "The host app's beforeRegister hook refused the account; the message is the hook's. Nothing was written.",
  HF_LOGIN_REFUSED:
    "The right password (or provider), but the host app's beforeLogin hook refused the sign-in (e.g. an unpaid or banned account); the message is the hook's.",
  HF_HOOK_FAILED:
    "A host app's before-hook threw (or answered neither nothing nor a refusal): 500, nothing was written; the log names the hook.",
  HF_HOOKS_INVALID: 'The hooks given to createServices name an unknown hook or are not functions.',
  HF_MAIL_FAILED:
    'A message could not be handed to the mail server (mail.smtp), or the preflight NOOP failed; the text names the server.',
  HF_ACCOUNT_TOKEN_INVALID:
    'The link is not valid: its token is unknown, expired, already used, replaced by a newer one, meant for something else, or ended by a later sign-in or password change. Nothing changed.',
  HF_RESET_THROTTLED:
    'Too many password reset requests for this email address or from this client address; retry later.',
  HF_EMAIL_UNVERIFIED:
    'The right password, but accounts.requireVerifiedEmail is on and the address is not verified yet: follow the mailed link, or ask for it again.',
  HF_VERIFY_THROTTLED:
    'The verification message was asked for again too often for this account or from this address; retry later.',
  HF_PLUGIN_OPTIONS: 'The options passed to the Hapi plugin are invalid.',
  HF_HAPI_VERSION:
    'A Holdfast plugin was registered on a hapi older than 21 (the peer dependency).',
  HF_INTERNAL: 'An unexpected internal error.',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** Process exit codes (sysexits.h), part of the CLI contract. */
export const ExitCodes = {
  OK: 0,
  /** EX_USAGE: unknown command or missing option. */
  USAGE: 64,
  /** EX_DATAERR: input rejected (e.g. an email already taken, a password too short). */
  DATAERR: 65,
  /** EX_UNAVAILABLE: the store could not be reached. */
  UNAVAILABLE: 69,
  /** EX_SOFTWARE: workers kept dying (a crash loop); the node stopped. */
  SOFTWARE: 70,
  /** EX_CONFIG: invalid settings or a failed preflight check. */
  CONFIG: 78,
} as const;
