import { HoldfastError } from '../errors';
import type { ClientInfo } from '../session';
import type { PublicUser } from '../users';

/** What a before-hook returns to stop the action: `message` is shown on the page and in the API. */
export interface HookRefusal {
  readonly refuse: string;
}

/** A before-hook lets the action go on by returning nothing. */
export type BeforeHookResult = HookRefusal | undefined | void;

type Awaitable<T> = T | Promise<T>;

/** A new account is about to be written (its email and name already passed Holdfast's rules). */
export interface BeforeRegisterInput {
  /** Normalised (lower-case, trimmed). */
  readonly email: string;
  readonly name: string;
  /** `password`: the register form or API, or `holdfast users create`; `oauth`: a first sign-in. */
  readonly method: 'password' | 'oauth';
  /** The OAuth provider's name when `method` is `oauth`. */
  readonly provider?: string;
  /** The browser or API client; null for an account made outside a request (createUser, CLI). */
  readonly client: ClientInfo | null;
}

export interface AfterRegisterInput {
  readonly user: PublicUser;
  readonly method: 'password' | 'oauth';
  readonly provider?: string;
  readonly client: ClientInfo | null;
}

/** The password (or provider) was right and the account is not disabled; no session exists yet. */
export interface LoginInput {
  readonly user: PublicUser;
  readonly method: 'password' | 'oauth';
  readonly provider?: string;
  readonly client: ClientInfo;
}

export interface AfterLogoutInput {
  readonly userId: string;
  /** The session that ended. */
  readonly sessionId: string;
}

export interface AfterPasswordChangeInput {
  readonly user: PublicUser;
  readonly client: ClientInfo;
}

/**
 * The host app's hooks into the account rules (Pow's controller callbacks). They run in the
 * account service, so the JSON API, the pages, OAuth sign-in and createUser (the CLI) all run them.
 * They never see a password or a hash. A before-hook may refuse; anything it throws is a 500
 * (HF_HOOK_FAILED) and nothing was written. An after-hook runs once the action is committed: what
 * it throws is logged (event `hookFailed`) and the action's answer stands. See docs/adr/120.
 */
export interface AccountHooks {
  /** Refuse with `{ refuse }`: 403 HF_REGISTRATION_REFUSED. Runs before the hash and the write. */
  readonly beforeRegister?: (input: BeforeRegisterInput) => Awaitable<BeforeHookResult>;
  readonly afterRegister?: (input: AfterRegisterInput) => Awaitable<void>;
  /** Refuse with `{ refuse }`: 403 HF_LOGIN_REFUSED (e.g. an unpaid or banned account). */
  readonly beforeLogin?: (input: LoginInput) => Awaitable<BeforeHookResult>;
  readonly afterLogin?: (input: LoginInput) => Awaitable<void>;
  readonly afterLogout?: (input: AfterLogoutInput) => Awaitable<void>;
  readonly afterPasswordChange?: (input: AfterPasswordChangeInput) => Awaitable<void>;
}

export type HookName = keyof AccountHooks;

export const HOOK_NAMES: readonly HookName[] = [
  'beforeRegister',
  'afterRegister',
  'beforeLogin',
  'afterLogin',
  'afterLogout',
  'afterPasswordChange',
];

/** A beforeRegister hook refused the account; the message is the hook's. */
export class RegistrationRefusedError extends HoldfastError {
  constructor(message: string) {
    super('HF_REGISTRATION_REFUSED', message);
  }
}

/** A beforeLogin hook refused the sign-in; the message is the hook's. */
export class LoginRefusedError extends HoldfastError {
  constructor(message: string) {
    super('HF_LOGIN_REFUSED', message);
  }
}

/** A before-hook threw (or answered something that is not a refusal): a 500 naming the hook. */
export class HookFailedError extends HoldfastError {
  constructor(
    readonly hook: HookName,
    cause: unknown,
  ) {
    super('HF_HOOK_FAILED', `the host app's ${hook} hook failed: ${describe(cause)}`, { cause });
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : `it threw a ${typeof cause}, not an Error`;
}

type BeforeName = 'beforeRegister' | 'beforeLogin';
type AfterName = Exclude<HookName, BeforeName>;
type InputOf<K extends HookName> = Parameters<NonNullable<AccountHooks[K]>>[0];

/** Runs the hooks the host app gave; a missing hook is a no-op. */
export class HookRunner {
  private readonly hooks: AccountHooks;

  /** `onFailure` records the `hookFailed` event (events.ts imports this module's types). */
  constructor(
    hooks: AccountHooks,
    private readonly onFailure: (e: { hook: HookName; userId?: string; error: unknown }) => void,
  ) {
    // A typo ("beforeSignup") or a non-function would otherwise be silently never called.
    for (const [name, fn] of Object.entries(hooks)) {
      if (!(HOOK_NAMES as readonly string[]).includes(name))
        throw new HoldfastError(
          'HF_HOOKS_INVALID',
          `hooks.${name} is not a hook: use ${HOOK_NAMES.join(', ')}`,
        );
      if (fn !== undefined && typeof fn !== 'function')
        throw new HoldfastError('HF_HOOKS_INVALID', `hooks.${name} must be a function`);
    }
    this.hooks = { ...hooks };
  }

  /**
   * The refusal message, or null to go on. A throw, or an answer other than nothing or
   * `{ refuse: 'a message' }`, is HookFailedError (recorded as `hookFailed`).
   */
  async before<K extends BeforeName>(name: K, input: InputOf<K>): Promise<string | null> {
    const hook = this.hooks[name] as ((i: InputOf<K>) => Awaitable<unknown>) | undefined;
    if (!hook) return null;
    let answer: unknown;
    try {
      answer = await hook(input);
    } catch (err) {
      throw this.failed(name, err, userIdOf(input));
    }
    if (answer === undefined) return null;
    const refuse = (answer as Partial<HookRefusal> | null)?.refuse;
    if (typeof refuse === 'string' && refuse.trim() !== '') return refuse;
    throw this.failed(
      name,
      new TypeError('it must answer nothing, or { refuse: "a message for the user" }'),
      userIdOf(input),
    );
  }

  /** The action is committed: a failure is recorded and never reaches the caller. */
  async after<K extends AfterName>(name: K, input: InputOf<K>): Promise<void> {
    const hook = this.hooks[name] as ((i: InputOf<K>) => Awaitable<void>) | undefined;
    if (!hook) return;
    try {
      await hook(input);
    } catch (err) {
      this.failed(name, err, userIdOf(input));
    }
  }

  private failed(hook: HookName, error: unknown, userId: string | undefined): HookFailedError {
    this.onFailure({ hook, error, ...(userId ? { userId } : {}) });
    return new HookFailedError(hook, error);
  }
}

function userIdOf(input: object): string | undefined {
  const i = input as { user?: PublicUser; userId?: string };
  return i.user?.id ?? i.userId;
}
