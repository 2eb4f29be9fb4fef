import cluster from 'node:cluster';
import { deepFreeze, type Settings } from '../config';
import { createLogger, flushLogger, Logger } from '../log/logger';
import { answerPrimary } from '../metrics';
import { isMessage, PrimaryMessage, WorkerMessage } from './messages';
import { RunningNode, startNode } from './node';

/**
 * The entry point of a worker forked by `holdfast start` (node:cluster). It asks the primary for
 * the validated settings, listens on http.port (shared by all workers through the primary), then
 * connects the store (readiness false until it answers, ADR 170), and shuts down gracefully on SIGTERM, SIGINT or the primary's request.
 */

/** Listen errors a restart cannot fix: the primary stops the node instead of replacing the worker. */
const FATAL_LISTEN_CODES = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

/**
 * The settings from the primary, and whether its preflight is still pending (ADR 170); a stop
 * before they arrive ends the worker at once (nothing to drain).
 */
function receiveSettings(): Promise<{ settings: Settings; preflightPending: boolean }> {
  return new Promise((resolve) => {
    const early = (): void => process.exit(0);
    const onMessage = (m: unknown): void => {
      if (isMessage<PrimaryMessage, 'holdfast:shutdown'>(m, 'holdfast:shutdown')) early();
      if (!isMessage<PrimaryMessage, 'holdfast:settings'>(m, 'holdfast:settings')) return;
      process.off('message', onMessage);
      process.off('SIGTERM', early);
      process.off('SIGINT', early);
      resolve({ settings: deepFreeze(m.settings), preflightPending: m.preflightPending === true });
    };
    process.on('message', onMessage);
    process.once('SIGTERM', early);
    process.once('SIGINT', early);
    send({ type: 'holdfast:hello' });
  });
}

async function run(): Promise<void> {
  // Listening before the settings arrive: the primary may send both messages in one tick.
  let preflightPassed!: () => void;
  const passed = new Promise<void>((resolve) => (preflightPassed = resolve));
  const onPassed = (m: unknown): void => {
    if (!isMessage<PrimaryMessage, 'holdfast:preflight-passed'>(m, 'holdfast:preflight-passed'))
      return;
    process.off('message', onPassed);
    preflightPassed();
  };
  process.on('message', onPassed);
  const { settings, preflightPending } = await receiveSettings();
  // While preflight is pending it listens at once, not ready, and leaves the store alone (ADR 170).
  const storeGate = preflightPending ? passed : undefined;
  if (!preflightPending) process.off('message', onPassed);
  // Buffered: the access log writes a line per request; every exit below flushes first.
  const logger: Logger = createLogger(settings.log.level, undefined, {
    format: settings.log.format,
    env: settings.env,
    buffered: true,
  }).child({ worker: cluster.worker?.id });
  function exit(code: number): never {
    flushLogger(logger);
    process.exit(code);
  }
  const abort = new AbortController();
  let node: RunningNode | undefined;
  let stopping = false;

  const shutdown = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    const done = node ? node.shutdown(reason) : Promise.resolve();
    done.then(
      () => exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('message', (m: unknown) => {
    if (isMessage<PrimaryMessage, 'holdfast:shutdown'>(m, 'holdfast:shutdown')) shutdown(m.reason);
  });
  // The primary is gone (killed): nobody would forward a SIGTERM any more, so stop now.
  process.on('disconnect', () => shutdown('primary exited'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception: worker exits, the primary replaces it');
    exit(1);
  });

  try {
    node = await startNode(settings, { logger, signal: abort.signal, storeGate });
  } catch (err) {
    if (stopping) return; // shutdown requested while connecting: the shutdown path exits
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (FATAL_LISTEN_CODES.has(code)) {
      send({
        type: 'holdfast:fatal',
        code,
        message: `cannot listen on http ${settings.http.host}:${settings.http.port} (${code}): set http.port / http.host (HOLDFAST_HTTP__PORT, HOLDFAST_HTTP__HOST) to a free port on an address of this machine`,
      });
    }
    logger.fatal({ err }, 'worker could not start');
    exit(1);
  }
  if (stopping) {
    await node.shutdown('stopped while starting');
    exit(0);
  }
  if (node.metrics) answerPrimary(node.metrics);
  send({ type: 'holdfast:listening', address: node.server.info.uri });
  try {
    await node.connected;
  } catch (err) {
    // Not an outage (those are retried): a fault a restart of this worker may fix.
    if (stopping) return;
    logger.fatal({ err }, 'worker could not connect the store');
    exit(1);
  }
}

if (cluster.isWorker) {
  void run();
} else {
  process.stderr.write(
    'holdfast: src/server/worker is started by `holdfast start`, not directly\n',
  );
  process.exitCode = 64;
}
