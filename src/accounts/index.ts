export { AccountService } from './account-service';
export type {
  AccountDeps,
  LoginResult,
  MergeResult,
  NewAccountInput,
  OAuthProfile,
} from './account-service';
export { AccountAdmin, deleteOwnAccount } from './admin';
export type { AccountSummary, UserRef } from './admin';
export { AuthEvents, emptyAuthStats } from './events';
export type {
  AuthEventMap,
  AuthStats,
  LoginFailureReason,
  OAuthFailureCause,
  ThrottleScope,
} from './events';
export {
  AccountDisabledError,
  LoginFailedError,
  ReauthRequiredError,
  RegistrationThrottledError,
  readableWindow,
  ThrottledError,
} from './errors';
export { parsePwnedRange, PasswordPolicy } from './password-policy';
export { HOOK_NAMES, HookFailedError, LoginRefusedError, RegistrationRefusedError } from './hooks';
export type {
  AccountHooks,
  AfterLogoutInput,
  AfterPasswordChangeInput,
  AfterRegisterInput,
  BeforeHookResult,
  BeforeRegisterInput,
  HookName,
  HookRefusal,
  LoginInput,
} from './hooks';
export type {
  BreachCheckFailure,
  BreachedPasswordLookup,
  BreachedSuffix,
  PasswordContext,
} from './password-policy';
