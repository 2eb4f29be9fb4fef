/** The CLI run in-process, and a real Redis with the server's services for the store commands. */
import { Readable } from 'node:stream';
import { main } from '../../src/cli/main';
import { loadSettings } from '../../src/config';
import { createServices, Services } from '../../src/server/services';
import { getProvider, RedisNode } from '../harness';

export interface CliResult {
  code: number;
  out: string[];
  err: string[];
}

/**
 * Runs the CLI in-process with its own environment, collecting what it prints. `input` is what
 * standard input holds (a pipe, not a terminal); without it the CLI is given no stdin.
 */
export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    env,
    ...(input === undefined ? {} : { stdin: Readable.from([input]) }),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out, err };
}

export interface RedisCli {
  redis: RedisNode;
  /** The CLI's environment: the shared store on `redis`. */
  env: NodeJS.ProcessEnv;
  /** The server's own services on the same store, started. */
  services: Services;
}

/** A standalone Redis from the harness, and the environment and services of both CLI and server on it. */
export async function startRedisCli(): Promise<RedisCli> {
  const redis = await getProvider().standalone();
  const env = {
    NODE_ENV: 'test',
    HOLDFAST_STORE__TYPE: 'redis',
    HOLDFAST_STORE__REDIS__MODE: 'standalone',
    HOLDFAST_STORE__REDIS__NODES: `${redis.host}:${redis.port}`,
    HOLDFAST_STORE__REDIS__SHARDS: '16',
  };
  try {
    const services = createServices(loadSettings({ env }));
    await services.store.start();
    return { redis, env, services };
  } catch (err) {
    await redis.destroy(); // the test's afterAll never sees this server
    throw err;
  }
}

/** Stops what startRedisCli started (any part may be missing when beforeAll failed). */
export async function stopRedisCli(r: Partial<RedisCli>): Promise<void> {
  await r.services?.store.stop();
  await r.redis?.destroy();
}
