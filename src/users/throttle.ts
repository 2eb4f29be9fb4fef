import { createHash } from 'node:crypto';
import { ipv6Groups, normalizeIp } from '../config/addresses';
import type { Settings } from '../config';

/** Growth rule of the login delay: passed to the store so the check-and-count is one atomic step. */
export interface ThrottleRule {
  /** Attempts allowed freely (failures counted since the last success). */
  readonly limit: number;
  readonly baseDelay: number;
  readonly maxDelay: number;
  /** How long the count lives after the last attempt. */
  readonly window: number;
}

/** Failure counters that survive restarts and are shared by every node (Redis) or one process (memory). */
export interface ThrottleStore {
  /**
   * Atomically: when `key` is waiting out a delay, counts nothing and returns the ms left;
   * otherwise counts one attempt and returns 0. Counting before the password is checked means
   * parallel guesses cannot slip past the limit.
   */
  attempt(key: string, rule: ThrottleRule, now: number): Promise<number>;
  /** Un-counts one attempt (it succeeded). */
  release(key: string): Promise<void>;
  /** Forgets every attempt on `key`. */
  reset(key: string): Promise<void>;
}

/** The wait before the next attempt after `count` counted attempts, last one at `last`. */
export function waitLeft(count: number, last: number, rule: ThrottleRule, now: number): number {
  if (count < rule.limit) return 0;
  const delay = Math.min(rule.maxDelay, rule.baseDelay * 2 ** Math.min(count - rule.limit, 40));
  return Math.max(0, last + delay - now);
}

export type ThrottleDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly scope: 'account' | 'address';
      readonly retryAfterMs: number;
    };

/**
 * Login throttling per account and per client address (settings.throttle): after `accountFailures`
 * failures for one email (or `addressFailures` from one address), each further attempt waits
 * baseDelay, doubling per failure up to maxDelay. Unknown emails are throttled exactly like known
 * ones, so throttling reveals nothing about which accounts exist. A wrong current password (a
 * password change) counts like a failed login. Registrations are counted per address too.
 * "Address" is an address group (addressGroup): one IPv6 /64 counts as one client.
 */
export class LoginThrottle {
  private readonly account: ThrottleRule;
  private readonly address: ThrottleRule;
  private readonly registration: ThrottleRule;

  constructor(
    private readonly store: ThrottleStore,
    s: Omit<
      Settings['throttle'],
      'resetPerAccount' | 'resetPerAddress' | 'verifyPerAccount' | 'verifyPerAddress'
    >,
    private readonly clock: () => number = Date.now,
  ) {
    const common = { baseDelay: s.baseDelay, maxDelay: s.maxDelay, window: s.window };
    this.account = { limit: s.accountFailures, ...common };
    this.address = { limit: s.addressFailures, ...common };
    // `registrations` per address, then nothing until `window` has passed since the last one.
    this.registration = {
      limit: s.registrations,
      baseDelay: s.window,
      maxDelay: s.window,
      window: s.window,
    };
  }

  /** Counts a registration from `ip`: 0, or the ms to wait when the address is over its limit. */
  beginRegistration(ip: string): Promise<number> {
    return this.store.attempt(registrationKey(ip), this.registration, this.clock());
  }

  /** Counts a login attempt for both keys, or says which one must wait and how long. */
  async begin(email: string, ip: string): Promise<ThrottleDecision> {
    const now = this.clock();
    const a = accountKey(email);
    const accountWait = await this.store.attempt(a, this.account, now);
    if (accountWait > 0) return { allowed: false, scope: 'account', retryAfterMs: accountWait };
    const addressWait = await this.store.attempt(addressKey(ip), this.address, now);
    if (addressWait > 0) {
      await this.store.release(a);
      return { allowed: false, scope: 'address', retryAfterMs: addressWait };
    }
    return { allowed: true };
  }

  /** The attempt begun by `begin` succeeded: the account starts afresh, the address is un-charged. */
  async succeeded(email: string, ip: string): Promise<void> {
    await this.store.reset(accountKey(email));
    await this.store.release(addressKey(ip));
  }
}

/**
 * The client an address stands for: an IPv4 address itself, an IPv6 address its /64. One
 * subscriber or host usually gets a whole /64 and can pick any address in it, so counting per
 * IPv6 address would give each attacker 2^64 fresh counters.
 */
export function addressGroup(ip: string): string {
  const n = normalizeIp(ip);
  if (!n) return ip;
  if (!n.includes(':')) return n;
  const g = ipv6Groups(n);
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

/** Keys hold a digest, never the email or address itself. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 32);
}
function accountKey(email: string): string {
  return `a:${digest(email)}`;
}
function addressKey(ip: string): string {
  return `i:${digest(addressGroup(ip))}`;
}
function registrationKey(ip: string): string {
  return `r:${digest(addressGroup(ip))}`;
}

/** Per-process counters for development and tests. */
export class MemoryThrottleStore implements ThrottleStore {
  private readonly entries = new Map<string, { count: number; last: number; dropAt: number }>();

  async attempt(key: string, rule: ThrottleRule, now: number): Promise<number> {
    let e = this.entries.get(key);
    if (e && e.dropAt <= now) e = undefined;
    const count = e?.count ?? 0;
    const wait = waitLeft(count, e?.last ?? 0, rule, now);
    if (wait > 0) return wait;
    this.entries.set(key, {
      count: count + 1,
      last: now,
      dropAt: now + Math.max(rule.window, rule.maxDelay),
    });
    return 0;
  }

  async release(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (e && e.count > 0) e.count--;
  }

  async reset(key: string): Promise<void> {
    this.entries.delete(key);
  }
}
