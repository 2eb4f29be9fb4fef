export { AccountService } from './account-service';
export type { AccountDeps, LoginResult, MergeResult, OAuthProfile } from './account-service';
export { AuthEvents, emptyAuthStats } from './events';
export type {
  AuthEventMap,
  AuthStats,
  LoginFailureReason,
  OAuthFailureCause,
  ThrottleScope,
} from './events';
export { LoginFailedError, ReauthRequiredError, readableWindow, ThrottledError } from './errors';
