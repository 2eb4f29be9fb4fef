export { AccountService } from './account-service';
export type { AccountDeps, LoginResult, NewAccountInput, OAuthProfile } from './account-service';
export { AuthEvents, emptyAuthStats } from './events';
export type {
  AuthEventMap,
  AuthStats,
  LoginFailureReason,
  OAuthFailureCause,
  ThrottleScope,
} from './events';
export { LoginFailedError, RegistrationThrottledError, ThrottledError } from './errors';
