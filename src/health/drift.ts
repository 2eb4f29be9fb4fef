import { EventEmitter } from 'node:events';
import type { Settings } from '../config';
import { CheckResult, CheckStatus, formatResult, recheckStore } from '../preflight';

/**
 * Drift of the store's configuration after start (ADR 171): every store.driftInterval the
 * preflight checks of persistence, eviction, replicas per master and capacity run again on the
 * running store. A check that now does worse than at start has drifted: one `change` event when
 * it drifts (and again only if its line changes), one when it is back. Never touches readiness:
 * a node whose Redis lost its AOF still serves every session correctly.
 */

export const DRIFT_CHECK_IDS = [
  'store.persistence',
  'store.eviction',
  'store.replicas',
  'store.capacity',
] as const;

export interface DriftChange {
  readonly check: string;
  /** True: worse than at start; false: back to what start found (or better). */
  readonly drifted: boolean;
  /** The preflight line of the result now (`FAIL store.persistence  found ...; fix: ...`). */
  readonly line: string;
  readonly result: CheckResult;
}

export interface StoreDriftOptions {
  readonly intervalMs: number;
  /** Re-runs the checks (tests may pass another); default: recheckStore on the settings. */
  readonly recheck?: () => Promise<CheckResult[]>;
}

const SEVERITY: Record<CheckStatus, number> = { pass: 0, skip: 0, warn: 1, wait: 2, fail: 2 };

export class StoreDrift extends EventEmitter<{ change: [DriftChange] }> {
  private readonly baseline = new Map<string, number>();
  private readonly state = new Map<string, { drifted: boolean; line: string }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly recheck: () => Promise<CheckResult[]>;

  constructor(
    settings: Settings,
    /** What the start's preflight found: the reference a change is measured against. */
    baseline: readonly CheckResult[],
    private readonly opts: StoreDriftOptions,
  ) {
    super();
    for (const id of DRIFT_CHECK_IDS) {
      const worst = Math.max(
        0,
        ...baseline.filter((r) => r.id === id).map((r) => SEVERITY[r.status]),
      );
      this.baseline.set(id, worst);
    }
    this.recheck = opts.recheck ?? (() => recheckStore(settings, DRIFT_CHECK_IDS));
  }

  /** 1 per check that has drifted now, 0 otherwise (holdfast_store_drift). */
  get values(): ReadonlyMap<string, 0 | 1> {
    return new Map(DRIFT_CHECK_IDS.map((id) => [id, this.state.get(id)?.drifted ? 1 : 0]));
  }

  start(): void {
    if (this.timer || this.opts.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One re-read; one in flight is shared. A failed re-read changes nothing. */
  check(): Promise<void> {
    this.running ??= this.runCheck()
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async runCheck(): Promise<void> {
    const results = await this.recheck();
    for (const id of DRIFT_CHECK_IDS) {
      const mine = results.filter((r) => r.id === id);
      // Skipped or not made (no master answered): an outage, not a change of configuration.
      if (mine.length === 0 || mine.every((r) => r.status === 'skip')) continue;
      const worst = mine.reduce((a, b) => (SEVERITY[b.status] > SEVERITY[a.status] ? b : a));
      const drifted = SEVERITY[worst.status] > (this.baseline.get(id) ?? 0);
      const line = formatResult(worst);
      const before = this.state.get(id) ?? { drifted: false, line: '' };
      this.state.set(id, { drifted, line });
      if (drifted !== before.drifted || (drifted && line !== before.line)) {
        this.emit('change', { check: id, drifted, line, result: worst });
      }
    }
  }
}
