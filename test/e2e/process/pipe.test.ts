/**
 * `holdfast config check | head -1`: the reader closes the pipe before the command is done. The
 * command must end as it would have (its own exit code), not with an EPIPE stack trace.
 */
import { spawnHoldfast } from '../../support/process';

jest.setTimeout(60_000);

it('ends with its own exit code and no stack trace when stdout is closed early', async () => {
  const p = spawnHoldfast(['config', 'check'], { HOLDFAST_ENV: 'development' }, 'pipe');
  // Closed before node has even started: every line the command writes meets a closed pipe.
  p.child.stdout?.destroy();
  const { code } = await p.exited;
  expect(p.stderrLines().join('\n')).not.toMatch(/EPIPE|Unhandled 'error' event/);
  expect(code).toBe(0);
});
