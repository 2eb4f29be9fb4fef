export { SessionService } from './session-service';
export type {
  Authentication,
  ClientInfo,
  CreateOptions,
  IssuedSession,
  RememberUse,
} from './session-service';
export { CredentialsChangedError } from './errors';
export { SessionPolicy } from './policy';
export { SessionEvents, emptyStats } from './events';
export type { AuthResult, RevokeReason, SessionEventMap, SessionStats } from './events';
export { parseToken, formatToken, hashSecret, SESSION_ID } from './token';
export { deviceLabel, DEVICE_LABEL_BYTES } from './device';
