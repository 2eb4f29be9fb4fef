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
import { storeUnavailable } from '../store';
import { buildServer } from './build-server';
import { createServices, Services } from './services';

/** One serving process (a worker, or a test's in-process node): store, health, HTTP. */
export interface RunningNode {
  readonly services: Services;
  readonly server: Server;
  readonly storeHealth: StoreHealth;
  readonly readiness: Readiness;
  readonly metrics?: Metrics;
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
}

/** How often a worker retries connecting to a store that went away between preflight and now. */
const CONNECT_RETRY_MS = 1000;

export async function startNode(settings: Settings, opts: NodeOptions): Promise<RunningNode> {
  const { logger } = opts;
  // Each 503's cause (error class, node, slot, operation) at warn, rate-limited per cause.
  storeUnavailable.useLogger(logger);
  const metrics = settings.metrics.enabled ? createMetrics() : undefined;
  const services = createServices(settings, { metrics });
  await connectStore(services, logger, opts.signal);

  const { storeHealth, readiness } = createNodeHealth(services, opts.healthIntervalMs);
  storeHealth.on('change', (s) => logStoreChange(logger, s));
  const balance = new ShardBalanceAlarm(logger);
  storeHealth.on('check', (s) => balance.observe(s.details));
  readiness.on('change', (s) =>
    logger.info({ ready: s.ready, reasons: s.reasons }, s.ready ? 'ready' : 'not ready'),
  );
  if (metrics) observeNode(metrics, { ...services, storeHealth, readiness });

  await storeHealth.start();
  const server = await buildServer({ services, readiness, logger, metrics });
  try {
    await server.start();
  } catch (err) {
    storeHealth.stop();
    await services.engine.stop().catch(() => undefined);
    throw err;
  }
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
      storeHealth.stop();
      await services.engine.stop();
      logger.info('stopped');
    })();
    return stopping;
  };
  return { services, server, storeHealth, readiness, metrics, shutdown };
}

/**
 * Connects the engine, retrying while the store is unreachable: preflight saw it a moment ago
 * (or this is a replacement worker during an outage). Nothing listens until it is connected, so
 * no request can meet an unconnected engine.
 */
async function connectStore(
  services: Services,
  logger: Logger,
  signal?: AbortSignal,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await services.engine.start();
      if (attempt > 1) logger.info({ attempt }, 'store connected');
      return;
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      if (signal?.aborted) throw err;
      if (attempt === 1 || attempt % 30 === 0) {
        logger.warn({ err: err.message, attempt }, 'store unreachable at worker start; retrying');
      }
      await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_MS));
    }
  }
}

function logStoreChange(logger: Logger, s: StoreHealthStatus): void {
  if (s.state === 'up') logger.info('store up');
  else if (s.state === 'down')
    logger.warn({ err: s.lastError }, 'store down: readiness false, requests needing it get 503');
}
