import { createHash } from 'node:crypto';
import type { Settings } from '../config';
import { HoldfastError } from '../errors';
import type { Logger } from '../log/logger';
import { mailLink, Mailer, MailRenderer } from '../mail';
import type { ClientInfo } from '../session';
import {
  addressGroup,
  AccountTokens,
  PasswordHasher,
  ThrottleRule,
  ThrottleStore,
  User,
  UserStore,
} from '../users';
import type { AccountService } from './account-service';
import { AccountTokenInvalidError } from './errors';
import type { AuthEvents } from './events';
import type { RevocationRetry } from './revocation-retry';

/** The page an emailed reset link opens (under mail.linkBase, which carries any route prefix). */
export const RESET_PAGE = '/reset-password';
/** The page where a reset is asked for (linked from the notifications). */
export const FORGOT_PAGE = '/forgot-password';

/** Reset requests for one address, or from one client, past throttle.resetPer*: 429. */
export class ResetThrottledError extends HoldfastError {
  constructor(readonly retryAfterMs: number) {
    super(
      'HF_RESET_THROTTLED',
      'too many password reset requests for this address or from this client: retry after the Retry-After delay',
    );
  }
}

export interface PasswordResetDeps {
  readonly settings: Settings;
  readonly users: UserStore;
  /** Ends the account's sessions, in the background too when the store fails after the write. */
  readonly revocations: RevocationRetry;
  readonly accounts: AccountService;
  readonly tokens: AccountTokens;
  readonly throttle: ThrottleStore;
  readonly hasher: PasswordHasher;
  readonly mailer: Mailer;
  readonly mail: MailRenderer;
  readonly events: AuthEvents;
  readonly logger?: Logger;
  readonly clock?: () => number;
}

/**
 * Password reset by email, and the notices after a password change or reset (ASVS 6.4.3, 6.3.7).
 * Knows no HTTP: the JSON API and the pages are adapters.
 *
 * A request answers the same, after the same work, whether or not an account has the address:
 * the input check and the throttle (counted per address whether or not it is anyone's) run on
 * the request; looking the address up, issuing the token and sending the mail run after the
 * answer (ADR 141). Nothing changes until a valid token is presented with an acceptable new
 * password; then the password is written as a compare-and-set on the credential version the
 * token was issued under, every session and remember-me series of the account ends, and the
 * credential epoch rises with it (ADR 040). A later sign-in or password change ends an
 * outstanding reset link.
 */
export class PasswordReset {
  private readonly perAccount: ThrottleRule;
  private readonly perAddress: ThrottleRule;
  private readonly clock: () => number;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: PasswordResetDeps) {
    const t = deps.settings.throttle;
    // N requests per window, then nothing until the window has passed since the last.
    const rule = (limit: number): ThrottleRule => ({
      limit,
      baseDelay: t.window,
      maxDelay: t.window,
      window: t.window,
    });
    this.perAccount = rule(t.resetPerAccount);
    this.perAddress = rule(t.resetPerAddress);
    this.clock = deps.clock ?? Date.now;
    const { events, tokens } = deps;
    // A sign-in with a password or a provider proves the user has their account: an outstanding
    // reset link is no longer needed, and must not stay usable by whoever reads the mailbox.
    events.on('login', (e) => {
      if (e.method === 'password' || e.method === 'oauth')
        this.later(() => tokens.invalidate('reset', e.userId), 'invalidate', false);
    });
    events.on('passwordChanged', (e) => {
      this.later(() => tokens.invalidate('reset', e.userId), 'invalidate', false);
      this.later(() => this.notify(e.userId, 'password-changed'), 'password-changed');
    });
  }

  /**
   * Asks for a reset link for `email`. Resolves the same for every acceptable address; throws
   * only UserInputError (not an address) or ResetThrottledError, neither of which depends on
   * whether an account has the address.
   */
  async request(email: unknown, client: ClientInfo): Promise<void> {
    const address = this.deps.accounts.checkEmail(email);
    const now = this.clock();
    const accountKey = `ra:${digest(address)}`;
    const accountWait = await this.deps.throttle.attempt(accountKey, this.perAccount, now);
    if (accountWait > 0) throw new ResetThrottledError(accountWait);
    const addressWait = await this.deps.throttle.attempt(
      `ri:${digest(addressGroup(client.ip))}`,
      this.perAddress,
      now,
    );
    if (addressWait > 0) {
      await this.deps.throttle.release(accountKey);
      throw new ResetThrottledError(addressWait);
    }
    // Off the request's critical path: the answer never waits for the lookup or the mail.
    this.later(() => this.deliver(address, client), 'reset');
  }

  /** Whether a reset link's token works now (the page shows the form or says to ask again). */
  async isValid(token: unknown): Promise<boolean> {
    const record = await this.deps.tokens.check('reset', token);
    if (!record) return false;
    const user = await this.deps.users.findById(record.userId);
    return !!user && !user.disabled && user.credentialVersion === record.credentialVersion;
  }

  /**
   * Sets a new password with a reset token. The token is checked first, then the password rules;
   * only then is the token used: a weak password leaves a good link working, and a bad token
   * changes nothing. Every session and remember-me series of the account ends.
   */
  async complete(
    input: { token: unknown; password: unknown },
    client: ClientInfo,
  ): Promise<{ userId: string; revokedSessions: number }> {
    const { tokens, users, revocations, events, hasher, accounts } = this.deps;
    const record = await tokens.check('reset', input.token);
    const user = record ? await users.findById(record.userId) : null;
    if (!record || !user || user.disabled || user.credentialVersion !== record.credentialVersion)
      return this.refuse(client);
    const next = await accounts.checkPassword(input.password, 'password', user);
    const hash = await hasher.hash(next);
    if (!(await tokens.consume('reset', input.token))) return this.refuse(client);
    const version = await users.updatePassword(
      user.id,
      { expectedVersion: record.credentialVersion },
      hash,
      { bumpVersion: true, changedAt: this.clock() },
    );
    // Changed (or disabled) since the token was checked: the link no longer stands for it.
    if (version === null) return this.refuse(client);
    // The token is used and the password written: an outage here must not leave the sessions of
    // whoever the reset was meant to shut out (ADR 272).
    const ended = await revocations.revoke(
      { change: 'password-reset', userId: user.id, reason: 'password', epoch: version },
      (ids) => {
        events.record('passwordReset', {
          userId: user.id,
          revokedSessions: ids.length,
          ip: client.ip,
        });
        this.later(() => this.notify(user.id, 'password-reset'), 'password-reset');
      },
    );
    return { userId: user.id, revokedSessions: ended.length };
  }

  /** Resolves when the mail and invalidations started so far have finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private refuse(client: ClientInfo): never {
    this.deps.events.record('passwordResetFailed', { ip: client.ip });
    throw new AccountTokenInvalidError();
  }

  private async deliver(address: string, client: ClientInfo): Promise<void> {
    const { users, tokens, settings } = this.deps;
    const user = await users.findByEmail(address);
    // A disabled account gets no reset (and is told nothing: the answer was the same).
    const eligible = !!user && !user.disabled;
    this.deps.events.record('passwordResetRequested', {
      userId: user?.id ?? null,
      ip: client.ip,
      sent: eligible,
    });
    if (!user || !eligible) return;
    const ttl = settings.tokens.resetTtl;
    const issued = await tokens.issue('reset', user.id, user.credentialVersion, ttl);
    await this.send(user, 'reset', {
      link: mailLink(this.linkBase, RESET_PAGE, { token: issued.token }),
      expires: readableDuration(ttl),
    });
  }

  private async notify(userId: string, kind: 'password-changed' | 'password-reset') {
    const user = await this.deps.users.findById(userId);
    if (!user) return;
    await this.send(user, kind, {
      time: readableTime(this.clock()),
      resetLink: mailLink(this.linkBase, FORGOT_PAGE),
    });
  }

  private async send(user: User, kind: string, values: Record<string, string>): Promise<void> {
    const content = this.deps.mail.render(kind, {
      site: new URL(this.linkBase).host,
      email: user.email,
      name: user.name,
      ...values,
    });
    try {
      await this.deps.mailer.send({ to: user.email, kind, ...content });
    } catch (err) {
      this.deps.events.record('mailed', { userId: user.id, kind, ok: false });
      throw err;
    }
    this.deps.events.record('mailed', { userId: user.id, kind, ok: true });
  }

  private get linkBase(): string {
    return this.deps.settings.mail.linkBase as string;
  }

  /**
   * Runs work off the request's path (`defer`: after the current turn, so the answer goes first;
   * otherwise started now, its store command sent before the answer, not awaited by it). A
   * failure is logged (never a token: none is in it).
   */
  private later(work: () => Promise<void>, kind: string, defer = true): void {
    const start = defer
      ? new Promise<void>((resolve) => setImmediate(resolve)).then(work)
      : Promise.resolve().then(work);
    const p: Promise<void> = start
      .catch((err: unknown) =>
        this.deps.logger?.error(
          {
            mail: kind,
            err: { code: (err as HoldfastError).code, message: (err as Error).message },
          },
          `password reset: ${kind} failed`,
        ),
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }
}

/** Throttle keys hold a digest, never the address. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 32);
}

/** `30 minutes`, `24 hours`, `2 days`: a lifetime as a message says it. */
export function readableDuration(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${Math.max(1, Math.round(ms / 60_000))} minutes`;
}

function readableTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} at ${iso.slice(11, 16)} UTC`;
}
