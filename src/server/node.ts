import type { Server } from '@hapi/hapi';
import type { Settings } from '../config';
import { StoreUnavailableError } from '../errors';
import {
  createNodeHealth,
  Readiness,
  ShardBalanceAlarm,
  StoreHealth,
  StoreHealthStatus,
} from '../health';
import type { Logger } from '../log/logger';
import { createMetrics, Metrics, observeNode } from '../metrics';
import { durability, ExpirySweeper, storeSeeds, storeUnavailable } from '../store';
import { buildServer } from './build-server';
import { createServices, Services } from './services';

/** One serving process (a worker, or a test's in-process node): store, health, HTTP. */
export interface RunningNode {
  readonly services: Services;
  readonly server: Server;
  readonly storeHealth: StoreHealth;
  readonly readiness: Readiness;
  readonly metrics?: Metrics;
  /** Sweeps expired sessions while this process holds the store's lease (ADR 230); none at interval 0. */
  readonly sweeper?: ExpirySweeper;
  /** Settles once the store is connected and checked (rejects on a fault a retry cannot fix). */
  readonly connected: Promise<void>;
  /**
   * Readiness false at once, wait shutdown.drainDelay, stop accepting and finish in-flight
   * requests (up to shutdown.timeout), stop health checks, close the store. Idempotent.
   */
  shutdown(reason: string): Promise<void>;
}

export interface NodeOptions {
  readonly logger: Logger;
  /** Stops waiting for the store when a shutdown comes first. */
  readonly signal?: AbortSignal;
  /** Health check period (default 1 s). */
  readonly healthIntervalMs?: number;
  /**
   * Resolves once the store may be used: the primary's repeated preflight passed after the store
   * was unreachable at start (ADR 170). Until then the node listens, not ready, and the store is
   * left alone. Default: at once.
   */
  readonly storeGate?: Promise<void>;
}

/** How often a worker retries connecting to a store that is not reachable. */
const CONNECT_RETRY_MS = 1000;

/**
 * Connects the store, then listens (ADR 271): a worker that answers is one whose store is in use,
 * so the workers of one node never disagree about readiness while the store is fine. When the
 * first connection attempt fails, or while `storeGate` is pending, it listens anyway (ADR 170): a
 * node whose store is away answers /health/live, reports not ready with the reason, and serves 503
 * where the store is needed (the engine refuses every call before it is connected) until the store
 * answers. Resolves once it listens; `connected` settles when the store is in use (rejects on a
 * fault a retry cannot fix).
 */
export async function startNode(settings: Settings, opts: NodeOptions): Promise<RunningNode> {
  const { logger } = opts;
  // Each 503's cause (error class, node, slot, operation) at warn, rate-limited per cause.
  storeUnavailable.useLogger(logger);
  // Each change left pending by too few replica acknowledgements, at warn, rate-limited (ADR 215).
  durability.useLogger(logger);
  // A change of the cluster client's seed nodes (DNS re-resolved, slot map moved) at info.
  storeSeeds.useLogger(logger);
  const metrics = settings.metrics.enabled ? createMetrics() : undefined;
  const services = createServices(settings, { metrics, logger });

  const { storeHealth, readiness } = createNodeHealth(services, opts.healthIntervalMs);
  storeHealth.on('change', (s) => logStoreChange(logger, s));
  const balance = new ShardBalanceAlarm(logger);
  storeHealth.on('check', (s) => balance.observe(s.details));
  readiness.on('change', (s) =>
    logger.info({ ready: s.ready, reasons: s.reasons }, s.ready ? 'ready' : 'not ready'),
  );
  const sweeper = createSweeper(settings, services, logger);
  if (metrics) observeNode(metrics, { ...services, storeHealth, readiness, sweeper });
  readiness.setWaiting(
    opts.storeGate
      ? 'preflight not passed yet: the store was unreachable at start'
      : 'store not connected yet',
  );

  const server = await buildServer({ services, readiness, logger, metrics });

  const stopConnecting = new AbortController();
  const signal = opts.signal
    ? AbortSignal.any([opts.signal, stopConnecting.signal])
    : stopConnecting.signal;
  let mayListen!: () => void;
  const listenNow = new Promise<void>((resolve) => (mayListen = resolve));
  const connected = (async () => {
    if (opts.storeGate) {
      await Promise.race([opts.storeGate, aborted(signal)]);
      if (signal.aborted) return;
      readiness.setWaiting('store not connected yet');
    }
    const ok = await connectStore(services, logger, signal, readiness, mayListen);
    if (!ok) return;
    await storeHealth.start();
    sweeper?.start();
    readiness.setWaiting(undefined);
  })();
  // Ready, stopped, or a fault the worker ends on: listen either way (the worker reads `connected`).
  connected.catch(() => undefined).finally(mayListen);
  if (!opts.storeGate) await listenNow;

  await server.start();
  readiness.setListening(true);
  logger.info({ address: server.info.uri }, 'listening');

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      readiness.startDraining();
      const { drainDelay, timeout } = settings.shutdown;
      logger.info({ reason, drainDelay, timeout }, 'draining: readiness false, still serving');
      await new Promise((resolve) => setTimeout(resolve, drainDelay));
      logger.info('stopping: no new connections, finishing requests in flight');
      await server.stop({ timeout });
      stopConnecting.abort();
      await connected.catch(() => undefined);
      storeHealth.stop();
      await sweeper?.stop();
      // Mail already promised (a reset or verification link, a notice) goes out, and revocations
      // retried since an outage land, before the store and mailer close, within shutdown.timeout:
      // a hung mail server or a store still away does not hold the node.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([
          services.revocations.idle(),
          services.passwordReset?.idle(),
          services.verification?.idle(),
          services.notifications?.idle(),
        ]),
        new Promise((resolve) => (timer = setTimeout(resolve, timeout))),
      ]);
      clearTimeout(timer);
      services.revocations.stop();
      await services.engine.stop();
      await services.mailer?.close();
      logger.info('stopped');
    })();
    return stopping;
  };
  return { services, server, storeHealth, readiness, metrics, sweeper, connected, shutdown };
}

/** A failed sweep is logged once, then every this many failures (the store being away says more). */
const SWEEP_FAILURES_LOGGED_EVERY = 60;

function createSweeper(
  settings: Settings,
  services: Services,
  logger: Logger,
): ExpirySweeper | undefined {
  const { interval } = settings.store.sweep;
  if (interval <= 0) return undefined;
  const sweeper: ExpirySweeper = new ExpirySweeper(services.store, {
    intervalMs: interval,
    onError: (err) => {
      if (sweeper.stats.failures % SWEEP_FAILURES_LOGGED_EVERY !== 1) return;
      logger.warn(
        { err: err instanceof Error ? err.message : String(err), failures: sweeper.stats.failures },
        'expiry sweep failed; the next one retries (counts fall back to sweeping themselves)',
      );
    },
  });
  return sweeper;
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Connects the engine, retrying every second while the store is unreachable (readiness says why
 * meanwhile, and `onFailure` lets the node listen). False when stopped first; a fault a retry
 * cannot fix (not StoreUnavailableError) is thrown.
 */
async function connectStore(
  services: Services,
  logger: Logger,
  signal: AbortSignal,
  readiness: Readiness,
  onFailure: () => void,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) return false;
    try {
      await services.engine.start();
      if (attempt > 1) logger.info({ attempt }, 'store connected');
      return true;
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      if (attempt === 1 || attempt % 30 === 0) {
        logger.warn(
          { err: err.message, attempt },
          'store unreachable: listening, not ready; retrying',
        );
      }
      readiness.setWaiting(`store not connected yet: ${err.message}`);
      onFailure();
    }
    await Promise.race([new Promise((r) => setTimeout(r, CONNECT_RETRY_MS)), aborted(signal)]);
  }
}

function logStoreChange(logger: Logger, s: StoreHealthStatus): void {
  if (s.state === 'up') logger.info('store up');
  else if (s.state === 'down')
    logger.warn({ err: s.lastError }, 'store down: readiness false, requests needing it get 503');
}
