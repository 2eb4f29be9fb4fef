import type { Settings } from '../config';
import { ConfigError, ExitCodes } from '../errors';
import { CATALOGUE } from './catalogue';
import { recordLayout } from './checks/layout-checks';
import type { CheckDefinition, PreflightContext, PreflightOptions, StoreContext } from './context';
import { PreflightError } from './error';
import { gatherFacts, StoreFacts, usable } from './facts';
import { CheckOutcome, CheckResult, fail, PreflightReport, skip } from './types';

/** Either valid settings, or the ConfigError that loading them raised (reported as `settings` lines). */
export interface PreflightInput {
  readonly settings?: Settings;
  readonly settingsError?: ConfigError;
}

/**
 * Runs every check of the catalogue once, in order, and says how a start would end. Connections
 * to the store are opened for the run and closed before it returns; nothing is written to the
 * store unless `recordLayout` is set and everything passed.
 */
export async function runPreflight(
  input: PreflightInput,
  options: PreflightOptions = {},
): Promise<PreflightReport> {
  const { settings, settingsError } = input;
  let facts: StoreFacts | undefined;
  if (settings && !settingsError && settings.store.type === 'redis') {
    facts = await gatherFacts(settings.store.redis);
  }
  const ctx: PreflightContext = { settings, settingsError, facts, options };
  try {
    const results: CheckResult[] = [];
    for (const check of CATALOGUE) {
      const gated = gate(check, ctx);
      const outcomes = gated ? [gated] : await runCheck(check, ctx);
      for (const o of outcomes) results.push({ id: check.id, ...o });
    }
    if (options.recordLayout && exitCodeOf(results) === 0 && facts) {
      try {
        await recordLayout(ctx as StoreContext);
      } catch (err) {
        const i = results.findIndex((r) => r.id === 'store.layout');
        const failed: CheckResult = {
          id: 'store.layout',
          ...fail(
            `recording the layout failed: ${(err as Error).message.split('\n')[0]}`,
            'the layout recorded at the first start',
            'check that the store accepts writes (OOM? READONLY?), then start again',
            { transient: true },
          ),
        };
        if (i >= 0) results[i] = failed;
        else results.push(failed);
      }
    }
    return { results, exitCode: exitCodeOf(results) };
  } finally {
    facts?.close();
  }
}

/** 78 when a setting or the store's configuration is wrong; 69 when only availability is; else 0. */
export function exitCodeOf(results: readonly CheckResult[]): 0 | 69 | 78 {
  if (results.some((r) => r.status === 'fail' && !r.transient)) return ExitCodes.CONFIG;
  if (results.some((r) => r.status === 'wait' || (r.status === 'fail' && r.transient))) {
    return ExitCodes.UNAVAILABLE;
  }
  return ExitCodes.OK;
}

function gate(check: CheckDefinition, ctx: PreflightContext): CheckOutcome | undefined {
  if (check.gate === 'always') return undefined;
  if (ctx.settingsError || !ctx.settings)
    return skip('settings are invalid (see the settings lines)');
  if (check.gate === 'settings') return undefined;
  if (ctx.settings.store.type !== 'redis' || !ctx.facts) {
    return skip('store.type is memory: there is no Redis to check');
  }
  if (check.gate === 'redis') return undefined;
  if (!ctx.facts.dataNodes.some((n) => usable(n) && n.info)) {
    return skip('no data node answered (see store.reachable, store.auth and store.mode)');
  }
  return undefined;
}

async function runCheck(check: CheckDefinition, ctx: PreflightContext): Promise<CheckOutcome[]> {
  try {
    const outcome = await check.run(ctx);
    return Array.isArray(outcome) ? outcome : [outcome];
  } catch (err) {
    // A bug in a check must not pass for a healthy store, nor hide the other checks.
    return [
      fail(
        `the check could not run: ${err instanceof Error ? err.message : String(err)}`,
        'a check that completes',
        'this is a bug in Holdfast: report it with this line',
      ),
    ];
  }
}

/**
 * Runs the named store checks of the catalogue again on a running deployment (the drift check,
 * ADR 171): the same facts gathering and the same check functions as a start, nothing written.
 * Empty when no data node answered (an outage is the store health's business, not drift).
 */
export async function recheckStore(
  settings: Settings,
  ids: readonly string[],
): Promise<CheckResult[]> {
  if (settings.store.type !== 'redis') return [];
  const facts = await gatherFacts(settings.store.redis);
  try {
    const ctx: PreflightContext = { settings, facts, options: {} };
    const results: CheckResult[] = [];
    for (const check of CATALOGUE.filter((c) => ids.includes(c.id))) {
      if (gate(check, ctx)) return [];
      for (const o of await runCheck(check, ctx)) results.push({ id: check.id, ...o });
    }
    return results;
  } finally {
    facts.close();
  }
}

export interface WaitOptions {
  /** How long to keep retrying while the result is 69 (store.startupWait); 0 = one run. */
  readonly startupWait: number;
  /** Pause between runs (default 1 s). */
  readonly retryEvery?: number;
  /** Told about each run that will be retried. */
  readonly onRetry?: (report: PreflightReport, remainingMs: number) => void;
  /** Ends the wait early (a SIGTERM while waiting). */
  readonly signal?: AbortSignal;
}

/**
 * Runs preflight until it stops saying "unavailable" (69) or store.startupWait runs out. A
 * configuration failure (78) never waits: waiting would not fix it.
 */
export async function runPreflightWaiting(
  input: PreflightInput,
  options: PreflightOptions,
  wait: WaitOptions,
): Promise<PreflightReport> {
  const deadline = Date.now() + wait.startupWait;
  for (;;) {
    const report = await runPreflight(input, options);
    const remaining = deadline - Date.now();
    if (report.exitCode !== ExitCodes.UNAVAILABLE || remaining <= 0 || wait.signal?.aborted) {
      return report;
    }
    wait.onRetry?.(report, remaining);
    await pause(Math.min(wait.retryEvery ?? 1000, remaining), wait.signal);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface LibraryPreflightOptions extends PreflightOptions {
  /** Keep retrying while only availability fails, up to this long (default store.startupWait). */
  readonly startupWait?: number;
  /** Ends the wait early. */
  readonly signal?: AbortSignal;
}

/**
 * `holdfast start`'s preflight for an app that embeds Holdfast: the same checks, the same wait
 * for a store that is not ready yet (store.startupWait) and, once everything passed, the same
 * layout record. Answers the report (warnings included) or throws PreflightError with the lines
 * `holdfast start` prints.
 */
export async function preflightSettings(
  settings: Settings,
  options: LibraryPreflightOptions = {},
): Promise<PreflightReport> {
  const { startupWait = settings.store.startupWait, signal, ...checks } = options;
  const report = await runPreflightWaiting(
    { settings },
    { recordLayout: true, ...checks },
    { startupWait, signal },
  );
  if (report.exitCode !== ExitCodes.OK) throw new PreflightError(report);
  return report;
}
