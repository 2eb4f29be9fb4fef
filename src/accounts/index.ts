export { AccountService } from './account-service';
export type {
  AccountDeps,
  LoginResult,
  MergeResult,
  NewAccountInput,
  OAuthProfile,
} from './account-service';
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
  AccountTokenInvalidError,
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
export {
  FORGOT_PAGE,
  PasswordReset,
  readableDuration,
  RESET_PAGE,
  ResetThrottledError,
} from './password-reset';
export type { PasswordResetDeps } from './password-reset';
