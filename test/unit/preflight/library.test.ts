import net from 'node:net';
import { loadSettings } from '../../../src/config';
import { PreflightError, runPreflight } from '../../../src/preflight/public';
import { problemLines, runPreflight as runChecks } from '../../../src/preflight';

/**
 * Library mode: runPreflight(settings) runs `holdfast start`'s checks; a start that would stop
 * throws PreflightError (HF_PREFLIGHT_FAILED) with the lines `holdfast preflight` prints and the
 * exit code `holdfast start` would use.
 */
function settingsOf(env: Record<string, string>) {
  return loadSettings({
    env: { HOLDFAST_HTTP__PORT: '0', HOLDFAST_METRICS__PORT: '0', ...env },
  });
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('runPreflight(settings)', () => {
  it('answers the report when a start would go on', async () => {
    const report = await runPreflight(settingsOf({ HOLDFAST_ENV: 'test' }));
    expect(report.exitCode).toBe(0);
    expect(report.results.find((r) => r.id === 'store.memory-engine')?.status).toBe('pass');
  });

  it('throws PreflightError, exit 78, with the lines of `holdfast preflight` for a configuration problem', async () => {
    const settings = settingsOf({ HOLDFAST_ENV: 'development', HOLDFAST_WORKERS: '2' });
    const err = await runPreflight(settings).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PreflightError);
    const e = err as PreflightError;
    expect(e.code).toBe('HF_PREFLIGHT_FAILED');
    expect(e.exitCode).toBe(78);
    const cli = await runChecks({ settings });
    expect(e.problems).toEqual(problemLines(cli));
    expect(e.problems).toContainEqual(
      expect.stringMatching(/^FAIL store\.memory-engine +found store\.type memory with 2 workers/),
    );
    expect(e.message.split('\n')).toEqual([
      'preflight failed:',
      ...problemLines(cli).map((l) => `  ${l}`),
      expect.stringMatching(/^preflight: .* failed, .*: configuration problem \(exit 78\)$/),
    ]);
  });

  it('throws exit 69 when only the store is unavailable, after store.startupWait', async () => {
    const port = await closedPort();
    const settings = settingsOf({
      HOLDFAST_ENV: 'development',
      HOLDFAST_STORE__TYPE: 'redis',
      HOLDFAST_STORE__REDIS__MODE: 'standalone',
      HOLDFAST_STORE__REDIS__NODES: `127.0.0.1:${port}`,
      HOLDFAST_STORE__STARTUP_WAIT: '600ms',
    });
    const started = Date.now();
    const err = (await runPreflight(settings).catch((e: unknown) => e)) as PreflightError;
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(err).toBeInstanceOf(PreflightError);
    expect(err.exitCode).toBe(69);
    expect(err.problems).toContainEqual(expect.stringMatching(/^FAIL store\.reachable /));
  });
});
