import type { Env } from './settings';

/**
 * Every default, in one place (docs/configuration.md lists them). Durations may be written as
 * `30m`/`7d` or milliseconds. Values per environment override the base below.
 */
export const DEFAULTS = {
  env: 'development',
  /** No proxy is trusted: the client address is the socket's peer (docs/security.md). */
  http: { host: '0.0.0.0', port: 3000, trustedProxies: [] },
  metrics: { enabled: true, host: '0.0.0.0', port: 9464 },
  workers: 'auto',
  /**
   * format auto: readable lines on a terminal, JSON when piped and always in production.
   * access: the level of the one line per request (info | debug | off); 5xx always logged.
   */
  log: { level: 'info', format: 'auto', access: 'info' },
  cookie: { secure: true, name: 'holdfast', rememberName: 'holdfast_remember', sameSite: 'Lax' },
  session: {
    idleTtl: '30m',
    absoluteTtl: '7d',
    renewAfter: '5m',
    rememberTtl: '30d',
    rememberGrace: '30s',
    maxPerUser: 50,
    maxRememberPerUser: 50,
  },
  shutdown: { drainDelay: '5s', timeout: '20s' },
  /**
   * Near cache (ADR 225): off, every request reads the store. On, each worker keeps sessions it
   * validated for at most `staleness`, dropped cluster-wide on revocation. 10000 entries is about
   * 10 MB per worker and covers 10000 distinct sessions per `staleness` per worker.
   */
  nearCache: { enabled: false, staleness: '1s', maxEntries: 10_000 },
  /** scrypt N = 2^17 (r 8, p 1): OWASP's recommendation; docs/security.md explains. */
  /**
   * Two scrypt jobs at once per process leave two of libuv's four pool threads
   * (UV_THREADPOOL_SIZE) for DNS and files; docs/performance.md has the measurements.
   */
  password: {
    cost: 131072,
    minLength: 8,
    maxLength: 1024,
    maxConcurrentHashes: 2,
    maxQueuedHashes: 32,
  },
  throttle: {
    accountFailures: 5,
    addressFailures: 50,
    baseDelay: '30s',
    maxDelay: '15m',
    window: '1h',
    registrations: 20,
    /** Password reset requests per address (account) and per client address, per `window`. */
    resetPerAccount: 3,
    resetPerAddress: 20,
    /** "Send the verification message again" per account and per client address, per `window`. */
    verifyPerAccount: 3,
    verifyPerAddress: 20,
  },
  /**
   * requireVerifiedEmail: a password sign-in (and a registration's own session) waits until the
   * address is verified through the mailed link (ADR 145). Needs mail.
   */
  accounts: { requireVerifiedEmail: false },
  /**
   * reauthWindow: how long after a password (or provider) confirmation sensitive changes are
   * allowed. redirectTo/appendNext: a browser without a session on a protected page goes to the
   * login page with the page it asked for in `next` (like @hapi/cookie's redirectTo/appendNext).
   */
  auth: { reauthWindow: '5m', redirectTo: '/login', appendNext: 'next' },
  csrf: { origins: [] },
  /** Where a browser goes after signing in with an OAuth provider (a path on this site). */
  oauth: { redirectTo: '/account' },
  /**
   * Outgoing mail (password reset, notifications). transport: off | log | smtp; off in
   * production until configured, `log` (each message and its link in the log) only in development.
   * linkBase: the public origin every emailed link starts with (never the request's Host header).
   */
  mail: {
    transport: 'off',
    from: 'Holdfast <no-reply@localhost>',
    smtp: { port: 587, secure: false, connectTimeout: '10s' },
  },
  /** Lifetimes of the single-use tokens emailed to users, per kind (reset, verify). */
  tokens: { resetTtl: '30m', verifyTtl: '24h' },
  store: {
    type: 'redis',
    startupWait: '0s',
    /** ADR 170: an unreachable store at start (after startupWait) listens not ready, or exits 69. */
    unreachableAtStart: 'listen',
    /** Sessions the deployment plans for: preflight's store.capacity compares it with maxmemory. */
    expectedSessions: 1_000_000,
    /** How often the primary re-reads persistence, eviction, replicas and capacity (0: never). */
    driftInterval: '30s',
    /**
     * ADR 230: one process at a time sweeps expired sessions every `interval` (0: this node never
     * does); a count may include sessions expired less than `maxLag` ago, never older ones.
     */
    sweep: { interval: '1s', maxLag: '10s' },
    redis: {
      mode: 'cluster',
      nodes: [],
      /** ADR 210: the resolver for store.redis.dns.name; [] is the system's (it reads /etc/hosts). */
      dnsServers: [],
      /** ADR 210: how often a cluster client re-resolves its seeds (also on every connection failure). */
      rediscoverInterval: '5s',
      sentinelName: 'mymaster',
      tls: false,
      natMap: {},
      keyPrefix: 'hf',
      /**
       * Measured (bench/shard-count.ts, docs/performance.md "Shard count"): 1024 costs ~13 % more
       * memory per session at 50k sessions and 3-8× the count's work; 256 balances within 1.1× up
       * to 25 masters with `store balance`. Past that, grow it online (ADR 260).
       */
      shards: 256,
      commandTimeout: '2s',
      connectTimeout: '5s',
      durability: { replicas: 0, timeout: '100ms' },
      require: {
        persistence: 'any',
        replicasPerMaster: 1,
        evictionPolicies: [
          'noeviction',
          'volatile-lru',
          'volatile-lfu',
          'volatile-ttl',
          'volatile-random',
        ],
        minVersion: '6.2.0',
      },
    },
  },
} as const;

/** What differs per environment: development and test run with no configuration at all. */
export const ENV_DEFAULTS: Record<Env, object> = {
  development: {
    workers: 1,
    cookie: { secure: false, password: 'holdfast-development-only-password-not-secret' },
    store: { type: 'memory', redis: { require: { replicasPerMaster: 0, persistence: 'none' } } },
    log: { level: 'info' },
    // `make run` works with no mail server: each message, link included, goes to the log.
    mail: { transport: 'log', linkBase: 'http://localhost:3000' },
  },
  test: {
    workers: 1,
    cookie: { secure: false, password: 'holdfast-test-only-password-not-a-secret!' },
    store: { type: 'memory', redis: { require: { replicasPerMaster: 0, persistence: 'none' } } },
    metrics: { enabled: false },
    log: { level: 'silent' },
    // scrypt N = 2^12 keeps the test suite fast; only ever used with env test.
    password: { cost: 4096 },
    // Test suites register hundreds of users from loopback; the throttle's own tests set a limit.
    throttle: { registrations: 100000 },
  },
  production: {},
};

/** Example and default passwords that must never reach production (preflight rejects them). */
export const KNOWN_EXAMPLE_PASSWORDS: readonly string[] = [
  'holdfast-development-only-password-not-secret',
  'holdfast-test-only-password-not-a-secret!',
  '...at least 32 chars: signs tokens and CSRF crumbs...',
  'change-me-change-me-change-me-change-me',
];

/** Paths whose values are secrets: never printed, never logged. */
export const SECRET_PATHS: readonly string[] = [
  'cookie.password',
  'store.redis.password',
  'oauth.github.clientSecret',
  'oauth.google.clientSecret',
  'mail.smtp.password',
  // smtp(s)://user:password@host: the whole URL is treated as the secret it may hold.
  'mail.smtp.url',
];
