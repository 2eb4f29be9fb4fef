export { normalizeEmail, isAcceptableEmail, MAX_EMAIL_LENGTH } from './email';
export {
  OWASP_MIN_SCRYPT_COST,
  PasswordHasher,
  SCRYPT_BLOCK_SIZE,
  SCRYPT_PARALLELISM,
} from './password';
export { BusyError, HashQueue } from './hash-queue';
export type { HashLane, HashQueueStats } from './hash-queue';
export type { VerifyResult } from './password';
export { MAX_ROLES, publicUser, ROLE_NAME, UserExistsError, UserInputError } from './user-store';
export type {
  IdentityProvider,
  LinkedIdentity,
  NewUser,
  PasswordExpectation,
  PasswordWrite,
  PublicUser,
  User,
  UserStore,
} from './user-store';
export { MemoryUserStore } from './memory-user-store';
export { RedisUserStore } from './redis-user-store';
export { addressGroup, LoginThrottle, MemoryThrottleStore, waitLeft } from './throttle';
export type { ThrottleDecision, ThrottleRule, ThrottleStore } from './throttle';
export { RedisThrottleStore } from './redis-throttle';
export { guard } from './redis-client';
export type { DurableWrites, RedisClient } from './redis-client';
export {
  ACCOUNT_TOKEN_KINDS,
  AccountTokens,
  bindingOf,
  MemoryTokenBackend,
} from './account-tokens';
export type {
  AccountTokenKind,
  AccountTokenRecord,
  IssuedAccountToken,
  TokenBackend,
} from './account-tokens';
export { RedisTokenBackend } from './redis-token-backend';
