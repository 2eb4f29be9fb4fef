export { CATALOGUE, CHECK_IDS } from './catalogue';
export type { CheckDefinition, CheckGate, PreflightContext, PreflightOptions } from './context';
export { formatJson, formatResult, formatTable, problemLines, summaryLine } from './format';
export { exitCodeOf, runPreflight, runPreflightWaiting } from './run';
export type { PreflightInput, WaitOptions } from './run';
export type { CheckOutcome, CheckResult, CheckStatus, PreflightReport } from './types';
