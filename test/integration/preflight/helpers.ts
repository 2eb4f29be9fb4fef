/**
 * Runs `holdfast preflight` and `holdfast start` in-process against real servers, with their own
 * environment, and records what they print, their exit codes, and whether any worker was forked.
 */
import cluster from 'node:cluster';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { main } from '../../../src/cli/main';
import { freePort } from '../../harness';
import type { Endpoint } from '../../harness';

export interface CliRun {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

export async function cli(argv: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** A production environment on one Redis deployment; `extra` adds or overrides variables. */
export async function productionEnv(
  nodes: Endpoint[],
  extra: NodeJS.ProcessEnv = {},
): Promise<NodeJS.ProcessEnv> {
  return {
    HOLDFAST_ENV: 'production',
    HOLDFAST_COOKIE__PASSWORD: randomBytes(30).toString('base64'),
    HOLDFAST_HTTP__HOST: '127.0.0.1',
    HOLDFAST_HTTP__PORT: String(await freePort()),
    HOLDFAST_METRICS__ENABLED: 'false',
    HOLDFAST_LOG__LEVEL: 'silent',
    HOLDFAST_STORE__REDIS__MODE: 'standalone',
    HOLDFAST_STORE__REDIS__NODES: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    HOLDFAST_STORE__REDIS__CONNECT_TIMEOUT: '2s',
    HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER: '0',
    HOLDFAST_STORE__REDIS__KEY_PREFIX: `pf${randomBytes(3).toString('hex')}`,
    // These suites compare `holdfast start`'s exit with preflight's: an unreachable store exits 69
    // instead of listening not ready (ADR 170; that path: test/e2e/process/unreachable-at-start).
    HOLDFAST_STORE__UNREACHABLE_AT_START: 'exit',
    ...extra,
  };
}

/** The line of one check (the first, for a check that prints several). */
export function lineOf(lines: readonly string[], id: string): string {
  const line = lines.find((l) => l.split(/\s+/)[1] === id);
  if (!line) throw new Error(`no line for ${id} in:\n${lines.join('\n')}`);
  return line;
}

/** Whether something accepts connections on 127.0.0.1:port now. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface FailedStart {
  readonly preflight: CliRun;
  readonly start: CliRun;
}

/**
 * A misconfiguration as an operator meets it: `holdfast preflight`, then `holdfast start`. Checks
 * what every such test must: start prints exactly preflight's lines and exits with its code,
 * forks no worker, and the HTTP port was never opened.
 */
export async function preflightThenStart(env: NodeJS.ProcessEnv): Promise<FailedStart> {
  const preflight = await cli(['preflight'], env);
  let forks = 0;
  const onFork = (): void => {
    forks++;
  };
  cluster.on('fork', onFork);
  let start: CliRun;
  try {
    start = await cli(['start'], env);
  } finally {
    cluster.off('fork', onFork);
  }
  expect(start.code).not.toBe(0);
  expect(start.code).toBe(preflight.code);
  expect(stripVolatile(start.err)).toEqual(stripVolatile(preflight.out));
  expect(forks).toBe(0);
  expect(await listening(Number(env.HOLDFAST_HTTP__PORT))).toBe(false);
  return { preflight, start };
}

/** Figures that change between two runs a moment apart (clock offsets, memory use, load progress). */
function stripVolatile(lines: readonly string[]): string[] {
  return lines.map((l) =>
    l
      .replace(/largest difference [^;]+ over/, 'largest difference N over')
      .replace(/\d+(\.\d+)? [KM]B/g, 'N B')
      .replace(/\(\d+%\)/g, '(N%)')
      .replace(/\(\d+(\.\d+)?%(, about \d+s left)?\)/g, '(N%)'),
  );
}
