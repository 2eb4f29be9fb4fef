export { AccountService } from './account-service';
export type { AccountDeps, LoginResult, OAuthProfile } from './account-service';
export { AuthEvents, emptyAuthStats } from './events';
export type {
  AuthEventMap,
  AuthStats,
  LoginFailureReason,
  OAuthFailureCause,
  ThrottleScope,
} from './events';
export { AccountDisabledError, LoginFailedError, ThrottledError } from './errors';
