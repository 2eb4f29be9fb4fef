/**
 * A session engine whose revokeUser fails while `fault.revoke` is set, as a sessions master that
 * dies between a credential write and its revocation does (ADR 272). For createServices'
 * `instrument`: the in-process store, with the outage on that one operation.
 */
import { StoreUnavailableError } from '../../src/errors';
import type { SessionEngine } from '../../src/store/engine';

export interface RevokeFault {
  /** What revokeUser rejects with while set. */
  revoke: Error | null;
  /** How many revokeUser calls failed so far. */
  failed: number;
}

export function revokeFault(): {
  fault: RevokeFault;
  instrument: (e: SessionEngine) => SessionEngine;
} {
  const fault: RevokeFault = { revoke: null, failed: 0 };
  const instrument = (engine: SessionEngine): SessionEngine =>
    new Proxy(engine, {
      get(target, key, receiver) {
        if (key === 'revokeUser' && fault.revoke) {
          const err = fault.revoke;
          return () => {
            fault.failed++;
            return Promise.reject(err);
          };
        }
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return { fault, instrument };
}

/** The outage a revokeUser meets: what the Redis engine throws for a command that timed out. */
export const revokeOutage = (): StoreUnavailableError =>
  new StoreUnavailableError('revokeUser', new Error('Command timed out'));
