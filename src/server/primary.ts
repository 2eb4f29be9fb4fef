import cluster, { Worker } from 'node:cluster';
import path from 'node:path';
import { formatDuration, Settings, workerSizing } from '../config';
import { ExitCodes } from '../errors';
import { StoreDrift } from '../health';
import { createLogger, Logger } from '../log/logger';
import { clusterScrape, MetricsServer, PrimaryMetrics, startMetricsServer } from '../metrics';
import {
  formatResult,
  formatTable,
  PreflightInput,
  PreflightReport,
  problemLines,
  runPreflightWaiting,
} from '../preflight';
import { CrashGuard, CrashGuardOptions, DEFAULT_CRASH_GUARD } from './crash-guard';
import { isMessage, PrimaryMessage, WorkerMessage } from './messages';
import { developmentUrls } from './urls';

/**
 * `holdfast start`, the primary process: settings and preflight first, in this process; workers
 * are forked only after every check passed, so on a configuration failure nothing ever listens.
 * A store that is only unreachable (exit 69) is the exception (store.unreachableAtStart listen,
 * ADR 170): workers listen not ready and leave the store alone while preflight repeats here. Then it
 * supervises the workers (replaced with backoff; a crash loop stops the node), and on SIGTERM or
 * SIGINT has every worker drain and stop, and exits 0 once all of them have.
 */

export interface PrimaryIo {
  /** Where preflight lines and start-up failures go (stderr; stdout carries the JSON logs). */
  readonly err: (line: string) => void;
}

export interface PrimaryOptions {
  readonly io?: PrimaryIo;
  /** The worker entry point (default: worker.js / worker.ts next to this file). */
  readonly workerExec?: string;
  readonly crashGuard?: CrashGuardOptions;
}

/** EX_SOFTWARE: workers kept dying. */
export const CRASH_LOOP_EXIT = ExitCodes.SOFTWARE;

export async function runPrimary(
  input: PreflightInput,
  opts: PrimaryOptions = {},
): Promise<number> {
  const io = opts.io ?? { err: (line: string) => process.stderr.write(`${line}\n`) };
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stop.signal.aborted) stop.abort(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const report = await preflight(input, io, stop.signal);
    // A failed start prints exactly what `holdfast preflight` prints; a good one folds the skips.
    for (const line of formatTable(report, report.exitCode === ExitCodes.OK)) io.err(line);
    const settings = input.settings as Settings;
    // ADR 170: only availability failed (69), never a setting or the store's configuration (78).
    const listenUnreachable =
      report.exitCode === ExitCodes.UNAVAILABLE && settings.store.unreachableAtStart === 'listen';
    if (report.exitCode !== ExitCodes.OK && !listenUnreachable) return report.exitCode;
    if (stop.signal.aborted) return ExitCodes.OK;
    if (listenUnreachable) {
      io.err(
        'holdfast: store unavailable: the workers listen with readiness false (503 where the store is needed) while preflight repeats every second; the node turns ready once it passes, and stops with exit 78 if the store turns out misconfigured (store.unreachableAtStart listen; set it to exit to exit 69 instead)',
      );
    }
    const supervisor = new Supervisor(settings, io, opts, report, listenUnreachable);
    return await supervisor.run(stop.signal);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

function preflight(
  input: PreflightInput,
  io: PrimaryIo,
  signal: AbortSignal,
): Promise<PreflightReport> {
  const startupWait = input.settings?.store.startupWait ?? 0;
  return runPreflightWaiting(
    input,
    { recordLayout: true },
    {
      startupWait,
      signal,
      onRetry: (report, remaining) => {
        const waiting = report.results.filter(
          (r) => r.status === 'wait' || (r.status === 'fail' && r.transient),
        );
        io.err(
          `holdfast: store not ready, retrying for up to ${formatDuration(Math.ceil(remaining / 1000) * 1000)} more (store.startupWait): ${waiting.map(formatResult).join(' | ')}`,
        );
      },
    },
  );
}

class Supervisor {
  private readonly logger: Logger;
  private readonly guard: CrashGuard;
  private readonly listening = new Set<number>();
  private readonly restarts = new Set<NodeJS.Timeout>();
  private readonly fatal = new Map<number, Extract<WorkerMessage, { type: 'holdfast:fatal' }>>();
  private stopping: { reason: string; exitCode: number } | undefined;
  private announced = false;
  private anyWorkerFailedToStop = false;
  private metricsServer: MetricsServer | undefined;
  private primaryMetrics: PrimaryMetrics | undefined;
  private drift: StoreDrift | undefined;
  private finish!: (code: number) => void;

  constructor(
    private readonly settings: Settings,
    private readonly io: PrimaryIo,
    private readonly opts: PrimaryOptions,
    private readonly report: PreflightReport,
    /** The store was unreachable at start: workers listen, preflight repeats (ADR 170). */
    private preflightPending = false,
  ) {
    this.logger = createLogger(settings.log.level, undefined, {
      format: settings.log.format,
      env: settings.env,
    }).child({ role: 'primary' });
    this.guard = new CrashGuard(opts.crashGuard ?? DEFAULT_CRASH_GUARD);
  }

  async run(signal: AbortSignal): Promise<number> {
    const done = new Promise<number>((resolve) => (this.finish = resolve));
    const exec = this.opts.workerExec ?? path.join(__dirname, `worker${path.extname(__filename)}`);
    cluster.setupPrimary({ exec, args: [] });
    cluster.on('message', this.onMessage);
    cluster.on('exit', this.onExit);
    signal.addEventListener(
      'abort',
      () => this.stop(String(signal.reason ?? 'signal'), ExitCodes.OK),
      { once: true },
    );

    await this.startMetrics();
    this.logger.info(
      {
        workers: this.settings.workers,
        // "2 workers: cgroup v2 cpu.max 200000 100000 at /sys/fs/cgroup (2 CPUs)"
        workersReason: workerSizing(this.settings).reason,
        http: `${this.settings.http.host}:${this.settings.http.port}`,
      },
      this.preflightPending
        ? 'store unavailable: starting workers, not ready until preflight passes'
        : 'preflight passed: starting workers',
    );
    for (let i = 0; i < this.settings.workers; i++) this.fork();
    if (this.preflightPending) void this.repeatPreflight(signal);
    else this.watchDrift(this.report);
    const code = await done;
    this.drift?.stop();
    cluster.off('message', this.onMessage);
    cluster.off('exit', this.onExit);
    await this.metricsServer?.close();
    return code;
  }

  /**
   * Preflight again every second until it stops saying "unavailable": pass, the workers connect
   * the store; a configuration failure (the store came back misconfigured), the node stops with
   * exit 78 and the lines a start would print. A changed set of problems is printed once (and
   * again every minute), not every second.
   */
  private async repeatPreflight(signal: AbortSignal): Promise<void> {
    let last = '';
    let runs = 0;
    const report = await runPreflightWaiting(
      { settings: this.settings },
      { recordLayout: true, portsHeld: true },
      {
        startupWait: Number.POSITIVE_INFINITY,
        signal,
        onRetry: (r) => {
          const lines = problemLines(r).join(' | ');
          if (lines !== last || ++runs % 60 === 0) {
            this.io.err(`holdfast: store not ready, preflight repeats: ${lines}`);
          }
          last = lines;
        },
      },
    );
    if (this.stopping || signal.aborted) return;
    for (const line of formatTable(report)) this.io.err(line);
    this.primaryMetrics?.setPreflight(report.results.map((r) => ({ id: r.id, status: r.status })));
    if (report.exitCode !== ExitCodes.OK) {
      this.stop('preflight failed once the store answered', report.exitCode);
      return;
    }
    this.preflightPending = false;
    this.logger.info('preflight passed: the workers connect the store');
    this.watchDrift(report);
    for (const w of Object.values(cluster.workers ?? {})) {
      // A worker that has not asked for its settings yet gets preflightPending false instead.
      if (w && !w.isDead() && w.isConnected()) {
        w.send({ type: 'holdfast:preflight-passed' } satisfies PrimaryMessage);
      }
    }
  }

  /**
   * Re-reads the store's persistence, eviction, replicas and capacity every store.driftInterval
   * (ADR 171), here once per node rather than in every worker: a change since `report` is logged
   * once with its preflight line, and once when it is back; holdfast_store_drift follows it.
   */
  private watchDrift(report: PreflightReport): void {
    const { store } = this.settings;
    if (store.type !== 'redis' || store.driftInterval <= 0) return;
    const drift = new StoreDrift(this.settings, report.results, {
      intervalMs: store.driftInterval,
    });
    drift.on('change', (c) => {
      this.primaryMetrics?.setDrift(drift.values);
      if (c.drifted) {
        this.logger.warn(
          { check: c.check, line: c.line },
          `store configuration changed since start: ${c.line}`,
        );
      } else {
        this.logger.info(
          { check: c.check, line: c.line },
          `store configuration back to what start found: ${c.line}`,
        );
      }
    });
    this.primaryMetrics?.setDrift(drift.values);
    drift.start();
    this.drift = drift;
  }

  private fork(): void {
    if (this.stopping) return;
    cluster.fork();
  }

  private readonly onMessage = (worker: Worker, message: unknown): void => {
    if (isMessage<WorkerMessage, 'holdfast:hello'>(message, 'holdfast:hello')) {
      // A worker that asks after a stop began gets the stop instead: it has nothing to drain.
      worker.send(
        this.stopping
          ? ({ type: 'holdfast:shutdown', reason: this.stopping.reason } satisfies PrimaryMessage)
          : ({
              type: 'holdfast:settings',
              settings: this.settings,
              preflightPending: this.preflightPending,
            } satisfies PrimaryMessage),
      );
    } else if (isMessage<WorkerMessage, 'holdfast:listening'>(message, 'holdfast:listening')) {
      this.listening.add(worker.id);
      if (!this.announced && this.listening.size === this.settings.workers) {
        this.announced = true;
        this.logger.info(
          { address: message.address, workers: this.listening.size },
          'node ready: every worker listens',
        );
        if (this.settings.env === 'development') {
          // One write: a worker's log line must not land inside the block.
          this.io.err(developmentUrls(this.settings, message.address).join('\n'));
        }
      }
    } else if (isMessage<WorkerMessage, 'holdfast:fatal'>(message, 'holdfast:fatal')) {
      this.fatal.set(worker.id, message);
    }
  };

  private readonly onExit = (worker: Worker, code: number | null, signal: string | null): void => {
    this.listening.delete(worker.id);
    if (this.stopping) {
      if (code !== 0) this.anyWorkerFailedToStop = true;
      this.logger.info({ worker: worker.id, code, signal }, 'worker stopped');
      this.maybeFinish();
      return;
    }
    const fatal = this.fatal.get(worker.id);
    if (fatal) {
      this.io.err(`holdfast: HF_PREFLIGHT_FAILED ${fatal.message}`);
      this.stop(`worker could not listen (${fatal.code})`, ExitCodes.CONFIG);
      return;
    }
    const decision = this.guard.onDeath();
    this.logger.error(
      { worker: worker.id, code, signal, recentDeaths: decision.recentDeaths },
      'worker died',
    );
    if (decision.action === 'stop') {
      const opts = this.opts.crashGuard ?? DEFAULT_CRASH_GUARD;
      this.io.err(
        `holdfast: HF_WORKER_CRASH_LOOP ${decision.recentDeaths} worker deaths within ${formatDuration(opts.windowMs)} (last: exit code ${code ?? '-'}, signal ${signal ?? '-'}); the node stops instead of restarting them forever: read the workers' last log lines above for the cause`,
      );
      this.stop('crash loop', CRASH_LOOP_EXIT);
      return;
    }
    const timer = setTimeout(() => {
      this.restarts.delete(timer);
      this.fork();
    }, decision.delayMs);
    this.restarts.add(timer);
  };

  /** Drains every worker (they each wait drainDelay, then finish their requests) and ends the run. */
  private stop(reason: string, exitCode: number): void {
    if (this.stopping) return;
    this.stopping = { reason, exitCode };
    this.drift?.stop();
    for (const t of this.restarts) clearTimeout(t);
    this.restarts.clear();
    const { drainDelay, timeout } = this.settings.shutdown;
    this.logger.info(
      { reason, drainDelay, timeout },
      'stopping: workers drain, then finish requests in flight',
    );
    for (const w of Object.values(cluster.workers ?? {})) {
      if (!w) continue;
      try {
        w.send({ type: 'holdfast:shutdown', reason } satisfies PrimaryMessage);
      } catch {
        w.process.kill('SIGTERM');
      }
    }
    // A worker that hangs past its budget is killed: the node still stops in bounded time.
    const hard = setTimeout(
      () => {
        for (const w of Object.values(cluster.workers ?? {})) {
          if (w && !w.isDead()) {
            this.anyWorkerFailedToStop = true;
            this.logger.error(
              { worker: w.id },
              'worker did not stop within shutdown.drainDelay + shutdown.timeout: killed',
            );
            w.process.kill('SIGKILL');
          }
        }
      },
      drainDelay + timeout + 2000,
    );
    hard.unref();
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (!this.stopping) return;
    const alive = Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead());
    if (alive.length > 0) return;
    const { exitCode, reason } = this.stopping;
    const code = exitCode === ExitCodes.OK && this.anyWorkerFailedToStop ? 1 : exitCode;
    this.logger.info({ reason, exitCode: code }, 'node stopped');
    this.finish(code);
  }

  private async startMetrics(): Promise<void> {
    const m = this.settings.metrics;
    if (!m.enabled) return;
    const primary = new PrimaryMetrics();
    this.primaryMetrics = primary;
    primary.setPreflight(this.report.results.map((r) => ({ id: r.id, status: r.status })));
    this.metricsServer = await startMetricsServer({
      host: m.host,
      port: m.port,
      scrape: clusterScrape({ primary: primary.registry }),
      onError: (err) => this.logger.warn({ err }, 'metrics scrape failed'),
    });
  }
}
