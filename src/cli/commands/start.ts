import type { PreflightInput } from '../../preflight';
import { runPrimary } from '../../server/primary';

/**
 * `holdfast start`: preflight in this process (waiting up to store.startupWait for a store that
 * is not there yet), then workers. Resolves with the exit code when the node has stopped.
 */
export function startCommand(input: PreflightInput, err: (line: string) => void): Promise<number> {
  return runPrimary(input, { io: { err } });
}
