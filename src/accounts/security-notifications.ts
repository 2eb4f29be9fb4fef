import type { Settings } from '../config';
import type { Logger } from '../log/logger';
import { mailLink, Mailer, MailRenderer } from '../mail';
import type { UserStore } from '../users';
import type { AuthEvents } from './events';
import { sendInBackground } from './outbox';

export interface SecurityNotificationsDeps {
  readonly settings: Settings;
  readonly users: UserStore;
  readonly mailer: Mailer;
  readonly mail: MailRenderer;
  readonly events: AuthEvents;
  readonly logger?: Logger;
  readonly clock?: () => number;
}

/**
 * Mails the account's address after a security-relevant change the user may not have made (ASVS
 * 6.3.7): a provider account linked (`identity-linked`), a remember-me token reused after rotation
 * (`remember-theft`). Driven by the audit events, so every adapter (API, pages, OAuth routes) is
 * covered; each message is followed by a `notified` audit event. Sending is off the request path
 * and never fails the request that caused it (outbox.ts).
 */
export class SecurityNotifications {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly clock: () => number;

  constructor(private readonly deps: SecurityNotificationsDeps) {
    this.clock = deps.clock ?? Date.now;
    deps.events.on('identityLinked', (e) =>
      this.notify(e.userId, 'identity-linked', { provider: e.label ?? e.provider }),
    );
    deps.events.on('theft', (e) => this.notify(e.userId, 'remember-theft', {}));
  }

  /** Resolves once every notice under way has been handed over or has failed (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private notify(userId: string, kind: string, values: Record<string, string>): void {
    const work = this.send(userId, kind, values).catch((err: unknown) =>
      this.deps.logger?.warn(
        { mail: kind, reason: (err as Error)?.name ?? 'Error' },
        'security notice not sent',
      ),
    );
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async send(userId: string, kind: string, values: Record<string, string>): Promise<void> {
    const { settings, users, mailer, mail, events, logger } = this.deps;
    const user = await users.findById(userId);
    if (!user) return;
    const linkBase = settings.mail.linkBase as string;
    const content = mail.render(kind, {
      ...values,
      email: user.email,
      name: user.name,
      site: new URL(linkBase).host,
      time: `${new Date(this.clock()).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      accountLink: mailLink(linkBase, '/account'),
    });
    const sent = await sendInBackground(mailer, { to: user.email, ...content, kind }, logger);
    events.record('notified', { userId, kind, sent });
  }
}
