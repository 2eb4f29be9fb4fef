import { HoldfastError, StoreUnavailableError } from '../../src/errors';
import type { ErrorCode } from '../../src/errors';

/** What `promise` rejects with; fails the test when it resolves instead. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

/** `err` is a HoldfastError with `code` (never an outage) whose message matches `message`. */
export function expectHoldfastError(err: unknown, code: ErrorCode, message: RegExp): void {
  expect(err).toBeInstanceOf(HoldfastError);
  if (code !== 'HF_STORE_UNAVAILABLE') expect(err).not.toBeInstanceOf(StoreUnavailableError);
  expect((err as HoldfastError).code).toBe(code);
  expect((err as HoldfastError).message).toMatch(message);
}
