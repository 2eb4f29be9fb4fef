export { ErrorCodes, ExitCodes } from './codes';
export type { ErrorCode } from './codes';
export { HoldfastError } from './holdfast-error';
export { ConfigError } from './config-error';
export { StoreFullError, StoreUnavailableError } from './store-unavailable-error';
export { formatProblem } from './problem';
export type { Problem } from './problem';
