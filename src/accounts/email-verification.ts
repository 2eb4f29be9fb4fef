import { createHash } from 'node:crypto';
import type { Settings } from '../config';
import type { Logger } from '../log/logger';
import { mailLink, Mailer, MailRenderer } from '../mail';
import {
  AccountTokens,
  addressGroup,
  bindingOf,
  normalizeEmail,
  ThrottleRule,
  ThrottleStore,
  User,
  UserStore,
} from '../users';
import { AccountTokenInvalidError, VerifyThrottledError } from './errors';
import type { AuthEvents } from './events';
import { mailFailureFields, readableTtl, sendInBackground } from './outbox';

export interface EmailVerificationDeps {
  readonly settings: Settings;
  readonly users: UserStore;
  readonly tokens: AccountTokens;
  readonly mailer: Mailer;
  readonly mail: MailRenderer;
  /** Counts "send again" per account and per client address (throttle.verifyPer*). */
  readonly throttle: ThrottleStore;
  readonly events: AuthEvents;
  readonly logger?: Logger;
  readonly clock?: () => number;
}

/** Who asks for the message again: the signed-in user, or anyone naming an address. */
export type ResendTarget = { readonly userId: string } | { readonly email: string };

/** The page a verification link opens (under mail.linkBase, which carries any route prefix). */
export const VERIFY_PAGE = '/verify-email';

const digest = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 32);

/**
 * Email verification (ADR 145): a single-use `verify` token (ADR 140) bound to the address it was
 * mailed to, mailed at every password registration and on request; using it marks the address
 * verified only while the account still has that address and is enabled. Knows no HTTP: the API
 * routes and the pages adapt it. Mail goes off the request path (outbox.ts).
 */
export class EmailVerification {
  private readonly settings: Settings;
  private readonly users: UserStore;
  private readonly tokens: AccountTokens;
  private readonly mailer: Mailer;
  private readonly mail: MailRenderer;
  private readonly throttle: ThrottleStore;
  private readonly events: AuthEvents;
  private readonly logger?: Logger;
  private readonly clock: () => number;
  private readonly perAccount: ThrottleRule;
  private readonly perAddress: ThrottleRule;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(deps: EmailVerificationDeps) {
    ({
      settings: this.settings,
      users: this.users,
      tokens: this.tokens,
      mailer: this.mailer,
      mail: this.mail,
      throttle: this.throttle,
      events: this.events,
      logger: this.logger,
    } = deps);
    this.clock = deps.clock ?? Date.now;
    const t = this.settings.throttle;
    // N per window, then nothing until `window` has passed since the last (like registrations).
    const rule = (limit: number) => ({
      limit,
      baseDelay: t.window,
      maxDelay: t.window,
      window: t.window,
    });
    this.perAccount = rule(t.verifyPerAccount);
    this.perAddress = rule(t.verifyPerAddress);
    // Every password registration (API, pages, `holdfast users create`) gets its message. An
    // account a provider created is verified already (method oauth): nothing to send.
    this.events.on('registered', (e) => {
      if (e.method === 'password') this.track(this.sendTo(e.userId, 'registered'));
    });
  }

  /**
   * "Send it again". Counted per account (the address, known or not, so the answer says nothing
   * about which exist) and per client address before anything else; past either, 429. The
   * message itself goes off the request path, so a known and an unknown address answer alike.
   */
  async resend(target: ResendTarget, ip: string): Promise<void> {
    const user = 'userId' in target ? await this.users.findById(target.userId) : null;
    const email = 'email' in target ? normalizeEmail(target.email) : (user?.email ?? '');
    const now = this.clock();
    const accountWait = await this.throttle.attempt(`va:${digest(email)}`, this.perAccount, now);
    if (accountWait > 0) throw new VerifyThrottledError(accountWait);
    const addressWait = await this.throttle.attempt(
      `vi:${digest(addressGroup(ip))}`,
      this.perAddress,
      now,
    );
    if (addressWait > 0) throw new VerifyThrottledError(addressWait);
    this.track(
      (async () => {
        const holder = user ?? (await this.users.findByEmail(email));
        if (holder) await this.sendTo(holder.id, 'requested');
      })(),
    );
  }

  /**
   * Uses a verification link. Valid only for an account that still has the address it was mailed
   * to and is enabled; `callerId` (the signed-in user, if any) must be the token's user. Anything
   * else — unknown, expired, used, replaced, tampered, another kind, another user's — is
   * HF_ACCOUNT_TOKEN_INVALID, and nothing changed (the token is checked before it is used).
   */
  async verify(token: unknown, callerId?: string | null): Promise<User> {
    const record = await this.tokens.check('verify', token);
    if (!record || (callerId && callerId !== record.userId)) throw new AccountTokenInvalidError();
    const user = await this.users.findById(record.userId);
    if (!user || user.disabled || record.binding !== bindingOf(user.email))
      throw new AccountTokenInvalidError();
    if (!(await this.tokens.consume('verify', token))) throw new AccountTokenInvalidError();
    // The store writes only while the record still has this address and is enabled (atomic).
    if (!(await this.users.markEmailVerified(user.id, { email: user.email })))
      throw new AccountTokenInvalidError();
    this.events.record('emailVerified', { userId: user.id });
    return { ...user, emailVerified: true };
  }

  /** Resolves once every message under way has been handed over or has failed (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private track(work: Promise<unknown>): void {
    const p = work.catch((err: unknown) =>
      // A store failure while issuing: the user asks again; nothing secret is in `err`.
      this.logger?.warn(mailFailureFields('verify', err), 'verification message not sent'),
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Issues a token (ending the previous one) and mails the link; nothing for a proved address. */
  private async sendTo(userId: string, reason: 'registered' | 'requested'): Promise<void> {
    const user = await this.users.findById(userId);
    if (!user || user.emailVerified || user.disabled) return;
    const ttl = this.settings.tokens.verifyTtl;
    const { token } = await this.tokens.issue(
      'verify',
      user.id,
      user.credentialVersion,
      ttl,
      user.email,
    );
    const linkBase = this.settings.mail.linkBase as string;
    const content = this.mail.render('verify', {
      link: mailLink(linkBase, VERIFY_PAGE, { token }),
      email: user.email,
      name: user.name,
      site: new URL(linkBase).host,
      expires: readableTtl(ttl),
    });
    this.events.record('verificationSent', { userId: user.id, reason });
    await sendInBackground(
      this.mailer,
      { to: user.email, ...content, kind: 'verify' },
      this.logger,
    );
  }
}
