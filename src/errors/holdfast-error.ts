import { ErrorCode, ErrorCodes } from './codes';

/** Base of every error Holdfast throws on purpose. HTTP mapping happens only in plugin/. */
export class HoldfastError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string = ErrorCodes[code], options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
