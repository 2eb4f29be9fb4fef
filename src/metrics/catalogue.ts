import type { Aggregator } from 'prom-client';

/**
 * Every Holdfast metric in one place: createMetrics builds the registry from this list, and
 * docs/metrics.md lists the same names and labels (a unit test keeps them equal).
 *
 * `aggregator` says how the primary folds its workers' values into one per node (node:cluster).
 * Deployment-wide figures read from the shared store (live sessions, failovers seen) use `max`:
 * every worker reads the same store, so summing would multiply them. Health gauges use `min`, so
 * one worker that cannot reach the store makes the node report the store down.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  readonly aggregator: Aggregator;
}

/** Seconds; store operations are sub-millisecond on loopback and up to commandTimeout (2 s) when stuck. */
export const STORE_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** Seconds; auth routes include password hashing (tens to hundreds of ms by design). */
export const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const METRICS = {
  sessionsActive: {
    name: 'holdfast_sessions_active',
    type: 'gauge',
    help: 'Live sessions in the whole deployment (every node reports the same figure; aggregate with max).',
    labels: [],
    aggregator: 'max',
  },
  usersActive: {
    name: 'holdfast_users_active',
    type: 'gauge',
    help: 'Users with at least one live session in the whole deployment (aggregate with max).',
    labels: [],
    aggregator: 'max',
  },
  sessionCountFailures: {
    name: 'holdfast_session_count_failures_total',
    type: 'counter',
    help: 'Counts of live sessions that failed (store unreachable); the live gauges go stale, then absent.',
    labels: [],
    aggregator: 'sum',
  },
  sessionsCreated: {
    name: 'holdfast_sessions_created_total',
    type: 'counter',
    help: 'Sessions created, by method (password, remember, oauth; rotation replaces a session).',
    labels: ['method'],
    aggregator: 'sum',
  },
  sessionsRevoked: {
    name: 'holdfast_sessions_revoked_total',
    type: 'counter',
    help: 'Sessions ended before their deadline, by reason.',
    labels: ['reason'],
    aggregator: 'sum',
  },
  sessionsExpired: {
    name: 'holdfast_sessions_expired_total',
    type: 'counter',
    help: 'Expired sessions removed from the shard indexes by this node (its expiry sweeper, or a count that swept a lagging shard).',
    labels: [],
    aggregator: 'sum',
  },
  sessionsRenewed: {
    name: 'holdfast_sessions_renewed_total',
    type: 'counter',
    help: 'Sliding renewals written (at most one per session per renewal interval).',
    labels: [],
    aggregator: 'sum',
  },
  loginsFailed: {
    name: 'holdfast_logins_failed_total',
    type: 'counter',
    help: 'Failed login attempts, by reason (throttled ones included, with reason throttled).',
    labels: ['reason'],
    aggregator: 'sum',
  },
  mailSent: {
    name: 'holdfast_mail_sent_total',
    type: 'counter',
    help: 'Messages handed to the mail server, by kind (reset, password-changed, password-reset, ...).',
    labels: ['kind'],
    aggregator: 'sum',
  },
  mailFailed: {
    name: 'holdfast_mail_failed_total',
    type: 'counter',
    help: 'Messages the mail server did not take (the log line names the server and the reason), by kind.',
    labels: ['kind'],
    aggregator: 'sum',
  },
  loginsThrottled: {
    name: 'holdfast_logins_throttled_total',
    type: 'counter',
    help: 'Login attempts refused by throttling before the password was checked, by scope.',
    labels: ['scope'],
    aggregator: 'sum',
  },
  rememberThefts: {
    name: 'holdfast_remember_thefts_total',
    type: 'counter',
    help: 'Remember-me tokens reused after rotation (theft): the series and the user sessions were revoked.',
    labels: [],
    aggregator: 'sum',
  },
  authDecisions: {
    name: 'holdfast_auth_decisions_total',
    type: 'counter',
    help: 'Authentication decisions on requests, by result.',
    labels: ['result'],
    aggregator: 'sum',
  },
  httpDuration: {
    name: 'holdfast_http_request_duration_seconds',
    type: 'histogram',
    help: 'Latency of Holdfast routes (auth API and pages), by route template, method and status class.',
    labels: ['route', 'method', 'status_class'],
    aggregator: 'sum',
  },
  storeDuration: {
    name: 'holdfast_store_operation_duration_seconds',
    type: 'histogram',
    help: 'Latency of session store operations, by operation and outcome (ok, unavailable, error).',
    labels: ['operation', 'outcome'],
    aggregator: 'sum',
  },
  storeMalformed: {
    name: 'holdfast_store_records_malformed_total',
    type: 'counter',
    help: 'Store records that could not be decoded and were treated as no session.',
    labels: [],
    aggregator: 'sum',
  },
  nearCacheHits: {
    name: 'holdfast_near_cache_hits_total',
    type: 'counter',
    help: 'Session reads answered from the near cache (nearCache.enabled; ADR 225).',
    labels: [],
    aggregator: 'sum',
  },
  nearCacheMisses: {
    name: 'holdfast_near_cache_misses_total',
    type: 'counter',
    help: 'Session reads that went to the store while the near cache is on (not cached, older than nearCache.staleness, or the subscription is down).',
    labels: [],
    aggregator: 'sum',
  },
  nearCacheInvalidations: {
    name: 'holdfast_near_cache_invalidations_total',
    type: 'counter',
    help: 'Invalidation messages the near cache applied (logout, revocation, renewal, rotation of any worker of any node).',
    labels: [],
    aggregator: 'sum',
  },
  nearCacheDrops: {
    name: 'holdfast_near_cache_drops_total',
    type: 'counter',
    help: 'Times the near cache was emptied because its invalidation subscription was lost.',
    labels: [],
    aggregator: 'sum',
  },
  nearCachePublishFailures: {
    name: 'holdfast_near_cache_publish_failures_total',
    type: 'counter',
    help: 'Invalidations that could not be published; other nodes see the change within nearCache.staleness.',
    labels: [],
    aggregator: 'sum',
  },
  nearCacheSubscribed: {
    name: 'holdfast_near_cache_subscribed',
    type: 'gauge',
    help: '1 when every worker of the node is subscribed to invalidations (a worker that is not reads through); aggregate with min.',
    labels: [],
    aggregator: 'min',
  },
  nearCacheEntries: {
    name: 'holdfast_near_cache_entries',
    type: 'gauge',
    help: 'Sessions held in the near caches of the node (at most nearCache.maxEntries per worker).',
    labels: [],
    aggregator: 'sum',
  },
  storeUnavailable: {
    name: 'holdfast_store_unavailable_total',
    type: 'counter',
    help: 'Store operations that failed as unavailable (answered 503), by cause (tryagain, moved, ask, timeout, connection, clusterdown, ...).',
    labels: ['cause'],
    aggregator: 'sum',
  },
  durabilityPending: {
    name: 'holdfast_durability_pending_total',
    type: 'counter',
    help: 'Changes made on the master that fewer replicas than store.redis.durability.replicas acknowledged in time (answered with Holdfast-Durability: pending), by operation.',
    labels: ['operation'],
    aggregator: 'sum',
  },
  durabilityRetries: {
    name: 'holdfast_durability_wait_retries_total',
    type: 'counter',
    help: 'Revocations whose WAIT was sent again after a timeout, by outcome (acknowledged, pending).',
    labels: ['outcome'],
    aggregator: 'sum',
  },
  storeSeedChanges: {
    name: 'holdfast_store_seed_changes_total',
    type: 'counter',
    help: 'Changes of the addresses the Redis Cluster client reconnects to (store.redis.dns re-resolved, or the slot map moved).',
    labels: [],
    aggregator: 'sum',
  },
  storeReplicaReads: {
    name: 'holdfast_store_replica_reads_total',
    type: 'counter',
    help: 'Session reads answered by a replica because the master failed or was slow (durability.replicas >= 1).',
    labels: [],
    aggregator: 'sum',
  },
  storeUp: {
    name: 'holdfast_store_up',
    type: 'gauge',
    help: '1 when the session store answers, 0 when it does not.',
    labels: [],
    aggregator: 'min',
  },
  storeClusterOk: {
    name: 'holdfast_store_cluster_state_ok',
    type: 'gauge',
    help: '1 when the store can serve every shard (Redis Cluster cluster_state:ok; a reachable master otherwise).',
    labels: [],
    aggregator: 'min',
  },
  storeMasters: {
    name: 'holdfast_store_masters',
    type: 'gauge',
    help: 'Masters serving the store as last seen by the health check.',
    labels: [],
    aggregator: 'min',
  },
  storeReplicas: {
    name: 'holdfast_store_replicas_online',
    type: 'gauge',
    help: 'Replicas linked to their masters as last seen by the health check.',
    labels: [],
    aggregator: 'min',
  },
  storeReplicasRequired: {
    name: 'holdfast_store_replicas_required',
    type: 'gauge',
    help: 'Replicas the settings require (masters x store.redis.require.replicasPerMaster).',
    labels: [],
    aggregator: 'max',
  },
  storeFailovers: {
    name: 'holdfast_store_failovers_total',
    type: 'counter',
    help: 'Store failovers this node observed (a shard or master moved to another server).',
    labels: [],
    aggregator: 'max',
  },
  preflightStatus: {
    name: 'holdfast_preflight_check_status',
    type: 'gauge',
    help: 'Each start-up check at the last preflight: 1 passed (or warned, or skipped), 0 failed or waiting.',
    labels: ['check'],
    aggregator: 'min',
  },
  storeDrift: {
    name: 'holdfast_store_drift',
    type: 'gauge',
    help: '1 while a store check re-run on the running store (store.driftInterval) does worse than at start: persistence, eviction policy, replicas per master or capacity changed; else 0.',
    labels: ['check'],
    aggregator: 'max',
  },
  ready: {
    name: 'holdfast_ready',
    type: 'gauge',
    help: '1 when this node is ready for traffic (workers listen and the store is healthy), else 0.',
    labels: [],
    aggregator: 'min',
  },
  workers: {
    name: 'holdfast_workers',
    type: 'gauge',
    help: 'Worker processes whose metrics are in this scrape.',
    labels: [],
    aggregator: 'sum',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

/** prom-client's default process and Node.js metrics carry this prefix too. */
export const DEFAULT_METRICS_PREFIX = 'holdfast_';

/**
 * How often the event-loop delay behind `holdfast_nodejs_eventloop_lag_*_seconds` is sampled, in
 * ms (prom-client's default is 10). Each sample wakes the loop: at 10 ms an idle process (the
 * primary, always) spent about 5 ms of CPU a second on it here, at 50 ms about 1 (ADR 256). Each
 * sample still measures the delay at a random moment, so the percentiles keep their meaning, from
 * fewer samples; a stall longer than this is always seen.
 */
export const EVENT_LOOP_SAMPLE_MS = 50;

/** prom-client's default metrics as Holdfast registers them (worker and primary alike). */
export const DEFAULT_METRICS_CONFIG = {
  prefix: DEFAULT_METRICS_PREFIX,
  eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
} as const;
