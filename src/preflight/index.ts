export { CATALOGUE, CHECK_IDS } from './catalogue';
export type { CheckDefinition, CheckGate, PreflightContext, PreflightOptions } from './context';
export { formatJson, formatResult, formatTable, problemLines, summaryLine } from './format';
export {
  exitCodeOf,
  preflightSettings,
  recheckStore,
  runPreflight,
  runPreflightWaiting,
} from './run';
export type { LibraryPreflightOptions, PreflightInput, WaitOptions } from './run';
export { PreflightError } from './error';
export type { CheckOutcome, CheckResult, CheckStatus, PreflightReport } from './types';
