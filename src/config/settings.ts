/** Resolved, validated, frozen settings. Field names are the contract of DESIGN.md. Durations are ms. */
export type Env = 'development' | 'test' | 'production';
export type PersistenceRequirement = 'aof' | 'rdb' | 'any' | 'none';
export type RedisMode = 'cluster' | 'sentinel' | 'standalone';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface RedisSettings {
  readonly mode: RedisMode;
  /** Seed nodes (cluster, standalone: the first) or sentinels (sentinel mode). */
  readonly nodes: readonly HostPort[];
  /** Discovery by DNS name (a Kubernetes headless service): every A record is a seed node. */
  readonly dns?: { readonly name: string; readonly port: number };
  /** DNS servers (`ip[:port]`) that resolve `dns.name`; empty: the system resolver. */
  readonly dnsServers: readonly string[];
  /** Cluster: how often (ms) the seeds are re-resolved and rebuilt from the last slot map; 0: only on failures. */
  readonly rediscoverInterval: number;
  /** Sentinel mode: the monitored master's name. */
  readonly sentinelName: string;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
  /** Cluster behind NAT: announced address -> reachable address. */
  readonly natMap: Readonly<Record<string, HostPort>>;
  readonly keyPrefix: string;
  readonly shards: number;
  readonly commandTimeout: number;
  readonly connectTimeout: number;
  readonly durability: { readonly replicas: number; readonly timeout: number };
  readonly require: {
    readonly persistence: PersistenceRequirement;
    readonly replicasPerMaster: number;
    readonly evictionPolicies: readonly string[];
    readonly minVersion: string;
  };
}

export interface MailSettings {
  /** off: no mail (features that need it are not offered); log: development only; smtp. */
  readonly transport: 'off' | 'log' | 'smtp';
  /** The From header, e.g. `Example <no-reply@example.com>`. */
  readonly from: string;
  /** The public origin of every emailed link, without a trailing slash (required unless off). */
  readonly linkBase?: string;
  readonly smtp: {
    /** smtp://user:password@host:587 or smtps://…:465; or host/port/secure/user/password. */
    readonly url?: string;
    readonly host?: string;
    readonly port: number;
    /** TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
    readonly secure: boolean;
    readonly user?: string;
    readonly password?: string;
    readonly connectTimeout: number;
  };
}

export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface Settings {
  readonly env: Env;
  readonly http: HostPort & {
    /**
     * Addresses (CIDR blocks) of the proxies in front: only a request whose socket peer is one of
     * them has its X-Forwarded-For read, from the right, up to the first address not in the list.
     */
    readonly trustedProxies: readonly string[];
  };
  readonly metrics: HostPort & { readonly enabled: boolean };
  readonly workers: number;
  readonly log: {
    readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    /**
     * `auto`: pino-pretty lines when stdout is a terminal and env is not production, JSON
     * otherwise; `json` or `pretty` force one (pretty in production only when set so).
     */
    readonly format: 'auto' | 'json' | 'pretty';
    /**
     * The level of the access log (one line per request): `info`, `debug` (written only when
     * level is debug or trace) or `off`. A 5xx answer is logged at error whatever this says.
     */
    readonly access: 'info' | 'debug' | 'off';
  };
  readonly cookie: {
    readonly password?: string;
    readonly secure: boolean;
    readonly name: string;
    readonly rememberName: string;
    readonly sameSite: 'Lax' | 'Strict';
  };
  readonly session: {
    readonly idleTtl: number;
    readonly absoluteTtl: number;
    readonly renewAfter: number;
    readonly rememberTtl: number;
    /** How long a just-rotated remember-me token is still accepted (parallel requests). */
    readonly rememberGrace: number;
    /** Most sessions one user may hold; the oldest is revoked past it. */
    readonly maxPerUser: number;
    /** Most remember-me series one user may hold; the oldest ends past it. */
    readonly maxRememberPerUser: number;
  };
  readonly shutdown: { readonly drainDelay: number; readonly timeout: number };
  /** The per-worker near cache of validated sessions (ADR 225); staleness in ms. */
  readonly nearCache: {
    readonly enabled: boolean;
    readonly staleness: number;
    readonly maxEntries: number;
  };
  readonly password: {
    /** scrypt cost N (a power of two); r = 8, p = 1. */
    readonly cost: number;
    readonly minLength: number;
    readonly maxLength: number;
    /** scrypt jobs running at once in one process (they run on libuv's thread pool). */
    readonly maxConcurrentHashes: number;
    /** Jobs that may wait per lane (logins; other hashing); past it, 503 HF_BUSY. */
    readonly maxQueuedHashes: number;
  };
  readonly throttle: {
    /** Failed logins for one account before each further attempt waits. */
    readonly accountFailures: number;
    /** Failed logins from one client address before each further attempt waits. */
    readonly addressFailures: number;
    /** The first wait past a limit; it doubles with each further failure, up to maxDelay. */
    readonly baseDelay: number;
    readonly maxDelay: number;
    /** How long failures are remembered after the last one. */
    readonly window: number;
    /** Registrations from one address (IPv6: one /64) before further ones wait out `window`. */
    readonly registrations: number;
    /** Password reset requests for one email address within `window` (then 429). */
    readonly resetPerAccount: number;
    /** Password reset requests from one client address within `window` (then 429). */
    readonly resetPerAddress: number;
    /** Verification messages asked for again, per account within `window` (then 429). */
    readonly verifyPerAccount: number;
    /** Verification messages asked for again from one client address within `window`. */
    readonly verifyPerAddress: number;
  };
  readonly accounts: {
    /** Password sign-in waits for a verified address (HF_EMAIL_UNVERIFIED); needs mail. */
    readonly requireVerifiedEmail: boolean;
  };
  readonly auth: {
    /**
     * Sign-out of other devices and OAuth link and unlink need a password (or provider)
     * confirmation at most this long ago: a login, or POST /auth/reauth.
     */
    readonly reauthWindow: number;
    /**
     * Where a browser (a GET asking for text/html) without a session goes on a route that requires
     * one, instead of a 401: a path on this site, or false for the 401. Holdfast's JSON API and
     * clients that do not ask for HTML always get the 401.
     */
    readonly redirectTo: string | false;
    /** The query parameter of redirectTo that names the page asked for, or false for none. */
    readonly appendNext: string | false;
  };
  readonly csrf: {
    /** Origins besides the request's own host allowed to send state-changing requests. */
    readonly origins: readonly string[];
  };
  readonly oauth: {
    /** Public base URL for OAuth redirects, e.g. https://app.example.com (default: from the request). */
    readonly location?: string;
    /** Where the browser goes after an OAuth sign-in: a path on this site (default /account). */
    readonly redirectTo: string;
    /** `uri`: a GitHub Enterprise Server base URL, e.g. https://github.example.com (default github.com). */
    readonly github?: OAuthClient & { readonly uri?: string };
    readonly google?: OAuthClient;
  };
  readonly mail: MailSettings;
  /** Lifetimes (ms) of the single-use tokens emailed to users. */
  readonly tokens: { readonly resetTtl: number; readonly verifyTtl: number };
  readonly store: {
    readonly type: 'memory' | 'redis';
    /** At start, wait up to this long for an unreachable store instead of exiting 69 (0 = exit). */
    readonly startupWait: number;
    /**
     * When the store is still unreachable once startupWait is over: `listen` (workers listen with
     * readiness false while preflight repeats, ADR 170) or `exit` (exit 69).
     */
    readonly unreachableAtStart: 'listen' | 'exit';
    /** Sessions the deployment must hold at once (store.capacity checks maxmemory against it). */
    readonly expectedSessions: number;
    /** How often the running node re-reads the store's configuration for drift (ms; 0: never). */
    readonly driftInterval: number;
    /**
     * Expiry sweeping (ADR 230), ms: how often a node's sweeper tries (0: never; the lease lets one
     * process sweep at a time), and how long a count may leave an expired session counted.
     */
    readonly sweep: { readonly interval: number; readonly maxLag: number };
    readonly redis: RedisSettings;
  };
}
