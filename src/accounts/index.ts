export { AccountService } from './account-service';
export type {
  AccountDeps,
  LoginResult,
  MergeResult,
  NewAccountInput,
  OAuthProfile,
  RegisterResult,
} from './account-service';
export { AccountAdmin, deleteOwnAccount } from './admin';
export type { AccountSummary, UserRef } from './admin';
export { AuthEvents, emptyAuthStats } from './events';
export { REVOCATION_RETRY_MS, RevocationRetry } from './revocation-retry';
export type { CredentialRevocation } from './revocation-retry';
export { EmailVerification, VERIFY_PAGE } from './email-verification';
export type { EmailVerificationDeps, ResendTarget } from './email-verification';
export { SecurityNotifications } from './security-notifications';
export type { SecurityNotificationsDeps } from './security-notifications';
export type {
  AuthEventMap,
  AuthStats,
  CredentialChange,
  LoginFailureReason,
  OAuthFailureCause,
  ThrottleScope,
} from './events';
export {
  AccountDisabledError,
  AccountTokenInvalidError,
  EmailUnverifiedError,
  LoginFailedError,
  ReauthRequiredError,
  RegistrationThrottledError,
  readableWindow,
  ThrottledError,
  VerifyThrottledError,
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
