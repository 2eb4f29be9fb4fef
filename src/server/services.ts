import {
  AccountAdmin,
  AccountHooks,
  AccountService,
  AuthEvents,
  BreachedPasswordLookup,
  PasswordReset,
  EmailVerification,
  RevocationRetry,
  SecurityNotifications,
} from '../accounts';
import type { Settings } from '../config';
import { ConfigError } from '../errors';
import type { Logger } from '../log/logger';
import { createMailer, Mailer, MailRenderer, MailTemplates } from '../mail';
import type { Metrics } from '../metrics';
import { SessionPolicy, SessionService } from '../session';
import { createEngine, NearCacheEngine, StoreEngine, withNearCache } from '../store';
import type { SessionEngine } from '../store/engine';
import { KeyLayout } from '../store/keys';
import {
  AccountTokens,
  HashQueue,
  LoginThrottle,
  MemoryThrottleStore,
  MemoryTokenBackend,
  MemoryUserStore,
  PasswordHasher,
  DurableWrites,
  RedisClient,
  RedisThrottleStore,
  RedisTokenBackend,
  RedisUserStore,
  ThrottleStore,
  TokenBackend,
  UserStore,
} from '../users';

/**
 * Every service of one process, built here and nowhere else: the server, the CLI, tests and host
 * apps (README) all start from createServices. One store connection serves the session engine and
 * the account stores.
 */
export interface Services {
  readonly settings: Settings;
  /**
   * The engine the session service uses (wrapped by metrics when instrumented, behind the near
   * cache when on). Start and stop this one: it starts the store and the near cache's subscription.
   */
  readonly engine: SessionEngine;
  /** The near cache in front of the store (nearCache.enabled, ADR 225); null when off. */
  readonly nearCache: NearCacheEngine | null;
  /**
   * The engine itself, unwrapped: the account stores and health share its connection. Starting
   * only this one leaves the near cache unsubscribed (it then reads through, never stale).
   */
  readonly store: StoreEngine;
  readonly layout: KeyLayout;
  readonly sessions: SessionService;
  readonly users: UserStore;
  readonly accounts: AccountService;
  /** Disable, enable, delete, revoke and show accounts by id or email (the CLI's, ADR 150). */
  readonly admin: AccountAdmin;
  /**
   * Revocations of written credential changes that met a store outage, retried in the background
   * (ADR 272). A host app that stops its server calls `stop()` before stopping the engine.
   */
  readonly revocations: RevocationRetry;
  /** This process's bound on concurrent password hashing (settings.password.maxConcurrentHashes). */
  readonly hashing: HashQueue;
  /** Account audit events (also carries the session service's theft events). */
  readonly events: AuthEvents;
  /** The metrics given in options (they time every store call of the session engine). */
  readonly metrics?: Metrics;
  /** Where mail goes (mail.transport, or the mailer given in options); null when mail is off. */
  readonly mailer: Mailer | null;
  /** The message templates: Holdfast's, with the host app's mailTemplates over them. */
  readonly mail: MailRenderer;
  /** Single-use emailed tokens (reset, verify) on the same store as the sessions (ADR 140). */
  readonly tokens: AccountTokens;
  /** Password reset and the notices after a password change or reset; null when mail is off. */
  readonly passwordReset: PasswordReset | null;
  /** Where the services log what happens off the request path (a failed send); silent if none. */
  readonly logger?: Logger;
  /** Email verification (ADR 145); null when mail is off. */
  readonly verification: EmailVerification | null;
  /** Notices mailed after a provider link or a remember-me theft (ASVS 6.3.7); null when mail is off. */
  readonly notifications: SecurityNotifications | null;
}

export interface ServicesOptions {
  /**
   * This process's metrics (createMetrics()): the session engine is wrapped so every store call
   * is timed, and holdfastMetrics finds them in the services.
   */
  readonly metrics?: Metrics;
  /** Wraps the engine before the session service gets it (after `metrics`, when both are given). */
  readonly instrument?: (engine: SessionEngine) => SessionEngine;
  /** The session engine to use instead of the one settings describe (tests). */
  readonly engine?: StoreEngine;
  /** A host app's own user store; by default the one that goes with the engine. */
  readonly users?: UserStore;
  /** Where login failures are counted; by default the one that goes with the engine. */
  readonly throttle?: ThrottleStore;
  /** The clock of the session service (tests move time). */
  readonly clock?: () => number;
  /**
   * A breach lookup for new passwords (k-anonymity: it gets the first 5 hex digits of the SHA-1
   * and answers the suffixes it knows, e.g. through Pwned Passwords' range API and
   * parsePwnedRange). None by default; a lookup that fails or is slow accepts the password.
   */
  readonly breachedPassword?: BreachedPasswordLookup;
  /** How long the breach lookup may take (default 2000 ms). */
  readonly breachedPasswordTimeoutMs?: number;
  /**
   * The host app's hooks around register, login, logout and password change (docs/api.md,
   * ADR 120): every adapter of the account service runs them. None by default.
   */
  readonly hooks?: AccountHooks;
  /**
   * The host app's own mailer (an email API, say) instead of the one mail.transport describes.
   * Given, mail counts as on whatever mail.transport says; mail.linkBase must then be set.
   */
  readonly mailer?: Mailer;
  /** Replacements for Holdfast's message templates, per kind (src/mail/templates.ts). */
  readonly mailTemplates?: MailTemplates;
  /** This process's logger: the development log transport writes to it, failed sends too. */
  readonly logger?: Logger;
}

export function createServices(settings: Settings, options: ServicesOptions = {}): Services {
  const store = options.engine ?? createEngine(settings);
  // The Redis engine's own layout: it learns from the store whether the shard count grew (ADR 260).
  const layout =
    store.kind === 'redis'
      ? store.keys
      : new KeyLayout(settings.store.redis.keyPrefix, settings.store.redis.shards);
  const timed = options.metrics ? options.metrics.instrumentEngine(store) : store;
  // In front of the timing: a cache hit is no store operation.
  const nearCache = settings.nearCache.enabled
    ? withNearCache(timed, store, layout, settings.nearCache)
    : null;
  if (nearCache && options.metrics) options.metrics.observeNearCache(nearCache);
  const cached = nearCache ?? timed;
  const engine = options.instrument ? options.instrument(cached) : cached;
  const sessions = new SessionService(
    engine,
    layout,
    new SessionPolicy(settings.session),
    options.clock,
  );
  const stores = accountStores(settings, store, options.clock);
  const users = options.users ?? stores.users;
  const events = new AuthEvents();
  // Session-level theft is detected by the session service; audit it with the account events.
  sessions.events.on('theft', (e) => events.record('theft', e));
  // A renewal runs after the request's answer (ADR 205): a bug in it is logged here, not lost.
  sessions.events.on('renewalFailed', (e) =>
    options.logger?.error({ err: e.error, sessionId: e.sessionId }, 'session renewal failed'),
  );
  const hashing = new HashQueue(
    settings.password.maxConcurrentHashes,
    settings.password.maxQueuedHashes,
  );
  const throttleStore = options.throttle ?? stores.throttle;
  const hasher = new PasswordHasher(settings.password.cost, hashing);
  const revocations = new RevocationRetry(sessions, events);
  const accounts = new AccountService({
    settings,
    sessions,
    users,
    throttle: new LoginThrottle(throttleStore, settings.throttle),
    hasher,
    events,
    revocations,
    breachedPassword: options.breachedPassword,
    breachedPasswordTimeoutMs: options.breachedPasswordTimeoutMs,
    clock: options.clock,
    hooks: options.hooks,
  });
  const metrics = options.metrics;
  const mailer = options.mailer ?? createMailer(settings, options.logger);
  if (mailer && !settings.mail.linkBase)
    throw new ConfigError([
      {
        path: 'mail.linkBase',
        found: 'nothing, while a mailer was given to createServices',
        expected: "the site's public origin, e.g. https://app.example.com",
        hint: 'set mail.linkBase (HOLDFAST_MAIL__LINK_BASE): every emailed link starts with it, never with the Host header of a request',
      },
    ]);
  const mail = new MailRenderer(options.mailTemplates);
  const tokens = new AccountTokens(stores.tokens, settings.store.redis.keyPrefix, options.clock);
  // Password reset needs mail: without a mailer it is not offered (no routes, no link).
  const passwordReset = mailer
    ? new PasswordReset({
        settings,
        users,
        revocations,
        accounts,
        tokens,
        throttle: throttleStore,
        hasher,
        mailer,
        mail,
        events,
        logger: options.logger,
        clock: options.clock,
      })
    : null;
  if (settings.accounts.requireVerifiedEmail && !mailer)
    throw new ConfigError([
      {
        path: 'accounts.requireVerifiedEmail',
        found: 'true, while mail is off (mail.transport off and no mailer given)',
        expected: 'a way to mail the verification link, or requireVerifiedEmail false',
        hint: 'set mail.transport to smtp with mail.smtp.url (and mail.linkBase), or accounts.requireVerifiedEmail to false: nobody could ever sign in',
      },
    ]);
  const mailDeps = { settings, users, mail, events, logger: options.logger, clock: options.clock };
  const verification = mailer
    ? new EmailVerification({ ...mailDeps, mailer, tokens, throttle: throttleStore })
    : null;
  const notifications = mailer ? new SecurityNotifications({ ...mailDeps, mailer }) : null;
  const admin = new AccountAdmin(accounts, sessions);
  return {
    settings,
    engine,
    nearCache,
    store,
    layout,
    sessions,
    users,
    accounts,
    admin,
    revocations,
    hashing,
    events,
    metrics,
    mailer,
    mail,
    tokens,
    passwordReset,
    logger: options.logger,
    verification,
    notifications,
  };
}

/**
 * The user and throttle stores that go with a session engine: Redis ones on the Redis engine's
 * own client (same connections, same topology), memory ones beside the memory engine.
 */
function accountStores(
  settings: Settings,
  engine: StoreEngine,
  clock?: () => number,
): { users: UserStore; throttle: ThrottleStore; tokens: TokenBackend } {
  if (engine.kind === 'memory')
    return {
      users: new MemoryUserStore(),
      throttle: new MemoryThrottleStore(),
      tokens: new MemoryTokenBackend(clock),
    };
  // The engine's read client: auto-pipelined, masters only; never the writes client, whose WAIT
  // for durability would stall logins behind session writes. A getter: the client exists only
  // after engine.start().
  const client = (): RedisClient => engine.connection.reads;
  const prefix = settings.store.redis.keyPrefix;
  // With durability, changes take the writes client and WAIT like session writes (ADR 215): a
  // failover must not lose a password change or a throttle count.
  const { replicas, timeout } = settings.store.redis.durability;
  const durable: DurableWrites | undefined =
    replicas > 0
      ? {
          client: () => engine.connection.writes,
          replicas,
          timeout,
          readRecord: (key, operation, primary) => engine.readRecord(key, operation, primary),
        }
      : undefined;
  return {
    users: new RedisUserStore(client, prefix, undefined, durable),
    throttle: new RedisThrottleStore(client, prefix, durable),
    tokens: new RedisTokenBackend(client, durable),
  };
}
