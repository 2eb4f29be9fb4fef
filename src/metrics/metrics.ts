import { collectDefaultMetrics, Registry } from 'prom-client';
import type { AuthStats } from '../accounts';
import type { Readiness } from '../health/readiness';
import type { StoreHealth, StoreHealthStatus } from '../health/store-health';
import type { SessionService } from '../session';
import type { SessionEngine } from '../store/engine';
import type { NearCacheEngine } from '../store/near-cache';
import {
  durability,
  DURABLE_OPERATIONS,
  storeSeeds,
  storeUnavailable,
  UNAVAILABLE_CAUSES,
} from '../store';
import type { Server } from '@hapi/hapi';
import { DEFAULT_METRICS_CONFIG, HTTP_BUCKETS, METRICS, STORE_BUCKETS } from './catalogue';
import { CounterSync } from './counter-sync';
import { counter, gauge, histogram, maybeGauge } from './instruments';
import type { MaybeGauge } from './instruments';
import { InstrumentedEngine, STORE_OPERATIONS } from './instrumented-engine';
import { PreflightCheckResult, preflightValues } from './preflight-status';
import { instrumentRoutes, isHoldfastRoute } from './routes';
import { DEFAULT_LIVE_COUNTS, LiveCounts, LiveCountsOptions } from './live-counts';

/** What the continuous store health check last saw (src/health fills it in). */
export interface StoreHealthSnapshot {
  readonly up: boolean;
  /** Redis Cluster cluster_state:ok; for sentinel / standalone / memory: a master answers. */
  readonly clusterOk: boolean;
  readonly masters?: number;
  readonly replicasOnline?: number;
  /** Replicas the settings require in total; the "replicas missing" alert compares with it. */
  readonly replicasRequired?: number;
  /** Failovers seen since this process started (monotonic). */
  readonly failovers?: number;
}

/** The store figures of one health check (StoreHealthSnapshot's counts). */
export type StoreFigures = Pick<
  StoreHealthSnapshot,
  'masters' | 'replicasOnline' | 'replicasRequired'
>;

export interface MetricsOptions {
  /** Process and Node.js metrics (prom-client defaults, prefixed holdfast_). Default true. */
  readonly defaultMetrics?: boolean;
  readonly liveCounts?: Partial<LiveCountsOptions>;
}

/**
 * The Holdfast metrics of one process: its own prom-client registry (never the global one), the
 * collectors that read the session service's counters, engine stats and health, and the hooks the
 * server wires in. Build it first, wrap the engine with instrumentEngine(), then observe*().
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly sessionsActive;
  private readonly usersActive;
  private readonly countFailures;
  private readonly created;
  private readonly revoked;
  private readonly expired;
  private readonly renewed;
  private readonly loginsFailed;
  private readonly mailSent;
  private readonly mailFailed;
  private readonly loginsThrottled;
  private readonly thefts;
  private readonly decisions;
  readonly httpDuration;
  readonly storeDuration;
  private readonly malformed;
  private readonly unavailable;
  private readonly replicaReads;
  private readonly storeUp;
  private readonly storeClusterOk;
  private readonly storeMasters;
  private readonly storeReplicas;
  private readonly storeReplicasRequired;
  private readonly storeFailovers;
  private readonly preflight;
  private readonly ready;

  private live: LiveCounts | null = null;
  private failoversSeen = 0;
  private readonly syncs: Array<() => void> = [];

  constructor(private readonly opts: MetricsOptions = {}) {
    const r = this.registry;
    // Both live gauges ask the same cached count: one store count per scrape at most.
    this.sessionsActive = maybeGauge(r, METRICS.sessionsActive, () => this.collectLive());
    this.usersActive = maybeGauge(r, METRICS.usersActive, () => this.collectLive());
    this.countFailures = counter(r, METRICS.sessionCountFailures);
    // Counters over plain stats catch up when they are collected (each scrape, each worker answer).
    const sync = (): void => this.syncStats();
    this.created = counter(r, METRICS.sessionsCreated, sync);
    this.revoked = counter(r, METRICS.sessionsRevoked, sync);
    this.expired = counter(r, METRICS.sessionsExpired, sync);
    this.renewed = counter(r, METRICS.sessionsRenewed, sync);
    this.loginsFailed = counter(r, METRICS.loginsFailed, sync);
    this.mailSent = counter(r, METRICS.mailSent, sync);
    this.mailFailed = counter(r, METRICS.mailFailed, sync);
    this.loginsThrottled = counter(r, METRICS.loginsThrottled, sync);
    this.thefts = counter(r, METRICS.rememberThefts, sync);
    this.decisions = counter(r, METRICS.authDecisions, sync);
    this.httpDuration = histogram(r, METRICS.httpDuration, HTTP_BUCKETS);
    this.storeDuration = histogram(r, METRICS.storeDuration, STORE_BUCKETS);
    this.malformed = counter(r, METRICS.storeMalformed, sync);
    this.replicaReads = counter(r, METRICS.storeReplicaReads, sync);
    this.unavailable = counter(r, METRICS.storeUnavailable, sync);
    // The store's 503s by cause, counted process-wide by the store layer (engine and user stores).
    const unavailable = new CounterSync(this.unavailable);
    for (const cause of UNAVAILABLE_CAUSES) this.unavailable.inc({ cause }, 0);
    this.syncs.push(() => {
      for (const cause of UNAVAILABLE_CAUSES) {
        unavailable.sync('cause', cause, storeUnavailable.counts[cause]);
      }
    });
    // Changes left pending by too few replica acknowledgements (ADR 215), process-wide like 503s.
    const pendingTotal = counter(r, METRICS.durabilityPending, sync);
    const pending = new CounterSync(pendingTotal);
    const retries = counter(r, METRICS.durabilityRetries, sync);
    const retried = new CounterSync(retries);
    for (const operation of DURABLE_OPERATIONS) pendingTotal.inc({ operation }, 0);
    for (const outcome of ['acknowledged', 'pending'] as const) retries.inc({ outcome }, 0);
    this.syncs.push(() => {
      for (const [operation, n] of Object.entries(durability.pending)) {
        pending.sync('operation', operation, n);
      }
      for (const [outcome, n] of Object.entries(durability.retried)) {
        retried.sync('outcome', outcome, n);
      }
    });
    // Seed changes (ADR 210), counted process-wide by the store layer like the 503s above.
    const seedChanges = counter(r, METRICS.storeSeedChanges, sync);
    seedChanges.inc(0);
    const seeds = new CounterSync(seedChanges);
    this.syncs.push(() => seeds.sync(null, null, storeSeeds.changes));
    this.storeUp = maybeGauge(r, METRICS.storeUp);
    this.storeClusterOk = maybeGauge(r, METRICS.storeClusterOk);
    this.storeMasters = maybeGauge(r, METRICS.storeMasters);
    this.storeReplicas = maybeGauge(r, METRICS.storeReplicas);
    this.storeReplicasRequired = maybeGauge(r, METRICS.storeReplicasRequired);
    this.storeFailovers = counter(r, METRICS.storeFailovers);
    this.preflight = gauge(r, METRICS.preflightStatus);
    this.ready = maybeGauge(r, METRICS.ready);
    gauge(r, METRICS.workers).set(1);
    // Series at 0 from the start: rate() and increase() need a first sample before the first event.
    this.expired.inc(0);
    this.renewed.inc(0);
    this.thefts.inc(0);
    this.malformed.inc(0);
    this.replicaReads.inc(0);
    this.countFailures.inc(0);
    this.storeFailovers.inc(0);
    if (opts.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: r, ...DEFAULT_METRICS_CONFIG });
    }
  }

  /** Wraps the engine so every store call lands in holdfast_store_operation_duration_seconds. */
  instrumentEngine(engine: SessionEngine): SessionEngine {
    for (const operation of STORE_OPERATIONS) {
      // Zero series for the hot operations, so latency panels have data before the first error.
      this.storeDuration.zero({ operation, outcome: 'ok' });
    }
    return new InstrumentedEngine(engine, this.storeDuration);
  }

  /** Exports the session service's counters and the deployment-wide live counts. */
  observeSessions(sessions: SessionService): void {
    const stats = sessions.stats;
    const engineStats = sessions.engine.stats;
    const created = new CounterSync(this.created);
    const revoked = new CounterSync(this.revoked);
    const decisions = new CounterSync(this.decisions);
    const renewed = new CounterSync(this.renewed);
    const thefts = new CounterSync(this.thefts);
    const malformed = new CounterSync(this.malformed);
    const replicaReads = new CounterSync(this.replicaReads);
    for (const method of Object.keys(stats.created)) this.created.inc({ method }, 0);
    for (const reason of Object.keys(stats.revoked)) this.revoked.inc({ reason }, 0);
    for (const result of Object.keys(stats.auth)) this.decisions.inc({ result }, 0);
    this.syncs.push(() => {
      for (const [method, n] of Object.entries(stats.created)) created.sync('method', method, n);
      for (const [reason, n] of Object.entries(stats.revoked)) revoked.sync('reason', reason, n);
      for (const [result, n] of Object.entries(stats.auth)) decisions.sync('result', result, n);
      renewed.sync(null, null, stats.renewals);
      thefts.sync(null, null, stats.thefts);
      malformed.sync(null, null, engineStats.malformed);
      replicaReads.sync(null, null, engineStats.replicaReads);
    });
    this.live = new LiveCounts(
      () => sessions.count(),
      { ...DEFAULT_LIVE_COUNTS, ...this.opts.liveCounts },
      (counts) => {
        if (counts.expired > 0) this.expired.inc(counts.expired);
      },
      () => this.countFailures.inc(),
    );
  }

  /** Exports a near cache's counters, subscription state and size (ADR 225). */
  observeNearCache(cache: NearCacheEngine): void {
    const r = this.registry;
    const sync = (): void => this.syncStats();
    const counters = {
      hits: new CounterSync(counter(r, METRICS.nearCacheHits, sync)),
      misses: new CounterSync(counter(r, METRICS.nearCacheMisses, sync)),
      invalidations: new CounterSync(counter(r, METRICS.nearCacheInvalidations, sync)),
      drops: new CounterSync(counter(r, METRICS.nearCacheDrops, sync)),
      publishFailures: new CounterSync(counter(r, METRICS.nearCachePublishFailures, sync)),
    };
    const stats = cache.cacheStats;
    this.syncs.push(() => {
      for (const [name, target] of Object.entries(counters)) {
        target.sync(null, null, stats[name as keyof typeof counters]);
      }
    });
    // Read at scrape time: the hot path only keeps its plain fields.
    const subscribed: MaybeGauge = maybeGauge(r, METRICS.nearCacheSubscribed, () =>
      subscribed.set(stats.subscribed ? 1 : 0),
    );
    const entries: MaybeGauge = maybeGauge(r, METRICS.nearCacheEntries, () =>
      entries.set(cache.size),
    );
  }

  /**
   * Exports what the expiry sweeper removed (ADR 230) into holdfast_sessions_expired_total, beside
   * what counts sweep themselves (a shard no sweeper kept within store.sweep.maxLag).
   */
  observeSweeper(sweeper: { readonly stats: { readonly expired: number } }): void {
    const expired = new CounterSync(this.expired);
    this.syncs.push(() => expired.sync(null, null, sweeper.stats.expired));
  }

  /** The latest continuous health check result. */
  setStoreHealth(h: StoreHealthSnapshot): void {
    this.storeUp.set(h.up ? 1 : 0);
    this.storeClusterOk.set(h.clusterOk ? 1 : 0);
    if (h.masters !== undefined) this.storeMasters.set(h.masters);
    if (h.replicasOnline !== undefined) this.storeReplicas.set(h.replicasOnline);
    if (h.replicasRequired !== undefined) this.storeReplicasRequired.set(h.replicasRequired);
    if (h.failovers !== undefined && h.failovers > this.failoversSeen) {
      this.storeFailovers.inc(h.failovers - this.failoversSeen);
      this.failoversSeen = h.failovers;
    }
  }

  /**
   * Follows the continuous health check (every finished check) and readiness (every change).
   * `figures` turns a check into the store figures (masters, replicas online and required); by
   * default they are the check's details as they are.
   */
  observeHealth(
    store: StoreHealth,
    readiness?: Readiness,
    figures: (s: StoreHealthStatus) => StoreFigures = (s) => ({
      masters: s.details?.masters,
      replicasOnline: s.details?.replicasOnline,
    }),
  ): void {
    const seen = (s: StoreHealthStatus): void => {
      if (s.state === 'unknown') return; // not measured yet: no sample rather than a false 0
      this.setStoreHealth({
        up: s.up,
        clusterOk: s.up && (s.details?.clusterOk ?? true),
        failovers: s.details?.failovers,
        ...figures(s),
      });
    };
    seen(store.status);
    store.on('check', seen);
    if (readiness) {
      this.setReady(readiness.ready);
      readiness.on('change', (r) => this.setReady(r.ready));
    }
  }

  /** Results of the last preflight run; replaces earlier results (a check may be gone). */
  setPreflight(results: readonly PreflightCheckResult[]): void {
    this.preflight.reset();
    for (const [check, v] of preflightValues(results)) this.preflight.set({ check }, v);
  }

  setReady(ready: boolean): void {
    this.ready.set(ready ? 1 : 0);
  }

  /** Exports the auth layer's counters (AuthEvents.stats): failed and throttled logins, mail. */
  observeAuth(source: { readonly stats: AuthStats }): void {
    const stats = source.stats;
    const failed = new CounterSync(this.loginsFailed);
    const throttled = new CounterSync(this.loginsThrottled);
    const sent = new CounterSync(this.mailSent);
    const unsent = new CounterSync(this.mailFailed);
    for (const reason of Object.keys(stats.loginFailures)) this.loginsFailed.inc({ reason }, 0);
    for (const scope of Object.keys(stats.throttled)) this.loginsThrottled.inc({ scope }, 0);
    this.syncs.push(() => {
      for (const [reason, n] of Object.entries(stats.loginFailures)) {
        failed.sync('reason', reason, n);
      }
      for (const [scope, n] of Object.entries(stats.throttled)) throttled.sync('scope', scope, n);
      for (const [kind, n] of Object.entries(stats.mailSent ?? {})) sent.sync('kind', kind, n);
      for (const [kind, n] of Object.entries(stats.mailFailed ?? {})) unsent.sync('kind', kind, n);
    });
  }

  /** Times the auth routes and account pages of a Hapi server (call before server.start()). */
  observeServer(server: Server, include: (path: string) => boolean = isHoldfastRoute): void {
    instrumentRoutes(server, this.httpDuration, include);
  }

  /**
   * The exposition of this process alone (a single-process node's). The live count runs first, so
   * what it adds (its latency, expired entries, failures) shows in the same scrape.
   */
  async scrape(): Promise<string> {
    await this.collectLive();
    return this.registry.metrics();
  }

  /** The same as JSON, for the primary's aggregation (answerPrimary). */
  async json(): ReturnType<Registry['getMetricsAsJSON']> {
    await this.collectLive();
    return this.registry.getMetricsAsJSON();
  }

  private syncStats(): void {
    for (const sync of this.syncs) sync();
  }

  private async collectLive(): Promise<void> {
    if (!this.live) return;
    const counts = await this.live.get();
    if (counts) {
      this.sessionsActive.set(counts.sessions);
      this.usersActive.set(counts.users);
    } else {
      // No fresh figure: report nothing rather than a stale or zero one (see docs/adr/010).
      this.sessionsActive.unset();
      this.usersActive.unset();
    }
  }
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  return new Metrics(opts);
}
