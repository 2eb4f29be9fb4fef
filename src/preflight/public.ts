/**
 * `holdfast/preflight`: the start-up checks of `holdfast start` for an app that embeds Holdfast
 * (docs/api.md "Library mode"). `runPreflight(settings)` answers the report or throws
 * PreflightError (HF_PREFLIGHT_FAILED) with the lines `holdfast start` prints.
 */
export { preflightSettings as runPreflight } from './run';
export type { LibraryPreflightOptions } from './run';
export { PreflightError } from './error';
export { CHECK_IDS } from './catalogue';
export { formatResult, formatTable, problemLines, summaryLine } from './format';
export type { CheckResult, CheckStatus, PreflightReport } from './types';
