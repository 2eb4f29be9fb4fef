import { formatJson, formatTable, PreflightInput, runPreflight } from '../../preflight';

/**
 * `holdfast preflight [--json]`: every start-up check once (no waiting), one line each on stdout,
 * exit 0, 69 (store unavailable or not ready) or 78 (a setting or check failed). `holdfast start`
 * prints the same lines.
 */
export async function preflightCommand(
  input: PreflightInput,
  json: boolean,
  out: (line: string) => void,
): Promise<number> {
  const report = await runPreflight(input);
  if (json) out(formatJson(report));
  else for (const line of formatTable(report)) out(line);
  return report.exitCode;
}
