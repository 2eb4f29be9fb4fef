/**
 * `holdfast start` nodes as Prometheus targets, shared by the scrape and alert suites: each node is
 * a real process tree (primary + forked workers) with its metrics listener on loopback, its output
 * in test-artifacts/logs/e2e-prometheus-<name>.log.
 */
import { randomBytes } from 'node:crypto';
import type { Endpoint } from '../../harness';
import { LOOPBACK } from '../../harness';
import { canary, HoldfastProcess, request, spawnHoldfast, waitReady } from '../../support/process';

export interface Node {
  readonly name: string;
  readonly proc: HoldfastProcess;
  readonly httpPort: number;
  /** host:port of the primary's metrics listener: the Prometheus target (its `instance` label). */
  readonly target: string;
  readonly workers: number;
  /** The node's own origin, sent as Origin on every request (src/plugin/csrf.ts). */
  readonly origin: string;
  /** The settings it was started with: a CLI command against the same store uses them too. */
  readonly env: NodeJS.ProcessEnv;
}

/** What every node of one deployment shares: the key prefix and the cookie password. */
export interface Shared {
  readonly prefix: string;
  readonly cookiePassword: string;
}

export function sharedSecrets(): Shared {
  const shared = {
    prefix: `e2e${randomBytes(3).toString('hex')}`,
    // One secret for the whole deployment, as every node of a real one shares it.
    cookiePassword: randomBytes(30).toString('base64'),
  };
  canary(shared.cookiePassword);
  return shared;
}

/** The store settings for a Redis Cluster or a standalone Redis. */
export function redisStore(mode: 'cluster' | 'standalone', nodes: Endpoint[]): NodeJS.ProcessEnv {
  return {
    HOLDFAST_STORE__TYPE: 'redis',
    HOLDFAST_STORE__REDIS__MODE: mode,
    HOLDFAST_STORE__REDIS__NODES: nodes.map((s) => `${s.host}:${s.port}`).join(','),
  };
}

/**
 * Settings through HOLDFAST_* only. Env `test` with store.type redis rather than production:
 * - production only accepts cookie.secure true (the schema refuses false), and with Secure cookies
 *   the CSRF check refuses an `http://` Origin unless every node's origin is listed in
 *   csrf.origins, while these nodes serve plain HTTP on 127.0.0.1;
 * - production's preflight requires a replica per master (store.redis.require.replicasPerMaster
 *   1), i.e. a twice-as-large cluster, or more overrides;
 * - production hashes passwords at scrypt N=2^17 (128 MiB, hundreds of ms per hash on 2 cores).
 * Env `test` runs the same `holdfast start`: every preflight check against the real store,
 * forked workers, the Redis store, the primary's metrics listener, with the test defaults (no
 * replicas or persistence required, cookie.secure false, scrypt N=2^12). It turns metrics and
 * logs off by default, so both are switched on here.
 */
export function nodeEnv(
  store: NodeJS.ProcessEnv,
  shared: Shared,
  ports: { http: number; metrics: number },
  workers: number,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    HOLDFAST_ENV: 'test',
    HOLDFAST_COOKIE__PASSWORD: shared.cookiePassword,
    HOLDFAST_HTTP__HOST: LOOPBACK,
    HOLDFAST_HTTP__PORT: String(ports.http),
    HOLDFAST_METRICS__ENABLED: 'true',
    HOLDFAST_METRICS__HOST: LOOPBACK,
    HOLDFAST_METRICS__PORT: String(ports.metrics),
    HOLDFAST_WORKERS: String(workers),
    HOLDFAST_LOG__LEVEL: 'info',
    ...store,
    HOLDFAST_STORE__REDIS__KEY_PREFIX: shared.prefix,
    HOLDFAST_SHUTDOWN__DRAIN_DELAY: '100ms',
    HOLDFAST_SHUTDOWN__TIMEOUT: '5s',
    ...extra,
  };
}

/** `holdfast start`, its output in test-artifacts/logs/e2e-prometheus-<name>.log. */
export function startNode(name: string, env: NodeJS.ProcessEnv): Node {
  const httpPort = Number(env.HOLDFAST_HTTP__PORT);
  return {
    name,
    proc: spawnHoldfast(['start'], env, name, [], 'prometheus'),
    httpPort,
    target: `${LOOPBACK}:${env.HOLDFAST_METRICS__PORT}`,
    workers: Number(env.HOLDFAST_WORKERS),
    origin: `http://${LOOPBACK}:${httpPort}`,
    env,
  };
}

/** Ready for traffic, or the node's output when it exited instead (e.g. a failed preflight). */
export async function ready(node: Node): Promise<void> {
  const outcome = await Promise.race([
    waitReady(node.httpPort).then(() => 'ready'),
    node.proc.exited.then(({ code, signal }) => `exited (code ${code}, signal ${signal})`),
  ]);
  if (outcome !== 'ready') {
    throw new Error(`holdfast start ${node.name} ${outcome}:\n${node.proc.output()}`);
  }
}

/** SIGTERM (graceful drain), SIGKILL if the node has not stopped within 20 s. */
export async function stopNode(node: Node): Promise<void> {
  if (node.proc.child.exitCode === null && node.proc.child.signalCode === null) {
    node.proc.child.kill('SIGTERM');
  }
  const guard = setTimeout(() => node.proc.kill(), 20_000);
  await node.proc.exited;
  clearTimeout(guard);
}

/** A JSON API call on `node`, as a browser on that node's page sends it. */
export function api(
  node: Node,
  method: string,
  route: string,
  opts: { body?: unknown; cookie?: string },
) {
  return request(node.httpPort, route, { method, ...opts, headers: { origin: node.origin } });
}
