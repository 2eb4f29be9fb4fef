/**
 * One redis-server (or sentinel) child process on 127.0.0.1, in its own temp directory, with
 * its whole configuration on the command line. Readiness and liveness are checked with PING:
 * a SIGKILLed server can linger as <defunct>, and `kill -0` still succeeds on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freeClusterPorts, freePort, LOOPBACK } from './ports';
import { argValue, HarnessNode, PortInUseError, waitForPong } from './node-common';
import type { RedisNode, StandaloneOptions } from './types';

// Where they were first defined; the cluster and Sentinel modules import them from here.
export { argValue, PortInUseError };

export const REDIS_SERVER = process.env.HOLDFAST_REDIS_SERVER ?? 'redis-server';
export const DIR_PREFIX = 'holdfast-redis-';
const OWNER_FILE = 'holdfast-owner';
const STOP_GRACE_MS = 3000;
/** Set HOLDFAST_KEEP_REDIS_DIRS=1 to keep data dirs and logs for a post-mortem. */
const KEEP_DIRS = process.env.HOLDFAST_KEEP_REDIS_DIRS === '1';

/**
 * Jest gives each test file a copy of `process` whose events never fire (its `_events` are not
 * shared), so exit hooks registered on it would never run. A function from a core module
 * belongs to the outer realm, and its Function constructor sees the real `process`.
 */
const realProcess = new (spawn.constructor as FunctionConstructor)(
  'return process',
)() as NodeJS.Process;

/**
 * Everything started by any harness module instance in this OS process. Jest loads this module
 * once per test file, so the registry hangs off the real process and the hooks go in once.
 */
interface Registry {
  pids: Set<number>;
  dirs: Set<string>;
}
const REGISTRY_KEY = Symbol.for('holdfast.test-harness.redis-registry');

function registry(): Registry {
  const holder = realProcess as unknown as Record<symbol, Registry | undefined>;
  let found = holder[REGISTRY_KEY];
  if (found === undefined) {
    const created: Registry = { pids: new Set(), dirs: new Set() };
    holder[REGISTRY_KEY] = created;
    installExitHooks(created);
    found = created;
  }
  return found;
}

function killEverything(reg: Registry): void {
  for (const pid of reg.pids) {
    try {
      realProcess.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  reg.pids.clear();
  if (KEEP_DIRS) return;
  for (const dir of reg.dirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort: global teardown reaps what is left
    }
  }
  reg.dirs.clear();
}

function installExitHooks(reg: Registry): void {
  realProcess.on('exit', () => killEverything(reg));
  // Jest stops a stuck worker with SIGTERM; the default action would skip 'exit' handlers.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killEverything(reg);
      realProcess.removeListener(signal, onSignal);
      // Nobody else handles it: re-raise so the process dies the way it would have.
      if (realProcess.listenerCount(signal) === 0) realProcess.kill(realProcess.pid, signal);
    };
    realProcess.on(signal, onSignal);
  }
}

export interface RedisProcessOptions extends StandaloneOptions {
  /** Listening port (default: a free one, retried on EADDRINUSE). */
  port?: number;
  /**
   * Loopback address to bind (default 127.0.0.1). Other 127.x.y.z addresses stand for hosts with
   * their own IP (a pod rescheduled on a new address, test/support/moving-cluster.ts).
   */
  host?: string;
  /** 'sentinel' runs `redis-server <config> --sentinel` without persistence arguments. */
  kind?: 'server' | 'sentinel';
  /** Written to <dir>/redis.conf before the first start and passed as the config file. */
  configText?: string;
  /** Cluster nodes need port + 10000 free for the bus (only used when port is not given). */
  clusterPorts?: boolean;
  /** How long to wait for PONG (default 10 s). */
  readyTimeoutMs?: number;
}

export class RedisProcess extends HarnessNode implements RedisNode {
  readonly host: string;
  readonly password?: string;
  readonly logFile: string;
  readonly args: readonly string[];
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private spawnError?: Error;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly opts: RedisProcessOptions,
  ) {
    super();
    this.host = opts.host ?? LOOPBACK;
    this.logFile = path.join(dir, 'redis.log');
    this.password = argValue(opts.extraArgs ?? [], '--requirepass');
    this.args = this.buildArgs();
  }

  /** Creates the directory (and config file) without starting the server. */
  static async create(port: number, opts: RedisProcessOptions = {}): Promise<RedisProcess> {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), DIR_PREFIX));
    registry().dirs.add(dir);
    // Lets global teardown tell orphans (owner dead) from servers another run still uses.
    await fsp.writeFile(path.join(dir, OWNER_FILE), String(realProcess.pid));
    if (opts.configText !== undefined) {
      await fsp.writeFile(path.join(dir, 'redis.conf'), opts.configText);
    }
    return new RedisProcess(port, dir, opts);
  }

  private buildArgs(): string[] {
    const o = this.opts;
    const args: string[] = [];
    if (o.configText !== undefined) args.push(path.join(this.dir, 'redis.conf'));
    args.push('--port', String(this.port), '--bind', this.host, '--dir', this.dir);
    args.push('--logfile', this.logFile, '--pidfile', path.join(this.dir, 'redis.pid'));
    args.push('--daemonize', 'no', '--protected-mode', 'no');
    if (o.kind !== 'sentinel') {
      // An empty argv entry reaches Redis as `save ""`: no RDB snapshots.
      args.push('--appendonly', o.appendonly === false ? 'no' : 'yes', '--save', o.save ?? '');
    }
    args.push(...(o.extraArgs ?? []));
    if (o.kind === 'sentinel') args.push('--sentinel');
    return args;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Whether our child process has not exited yet (it may still be starting or stuck). */
  get running(): boolean {
    const c = this.child;
    return (
      c !== undefined &&
      c.pid !== undefined &&
      this.spawnError === undefined &&
      c.exitCode === null &&
      c.signalCode === null
    );
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`redis ${this.host}:${this.port} is already running`);
    const out = fs.openSync(path.join(this.dir, 'stdout.log'), 'a');
    let child: ChildProcess;
    try {
      // Early errors (bad arguments) go to stdout/stderr before the log file is open.
      child = spawn(REDIS_SERVER, [...this.args], { stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
    this.child = child;
    this.spawnError = undefined;
    child.once('error', (error) => {
      this.spawnError = error;
    });
    if (child.pid === undefined) {
      // Spawning failed (e.g. ENOENT); the 'error' event comes on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      throw this.spawnFailure(this.spawnError ?? new Error('spawn failed'));
    }
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // A forgotten server must not keep the test process alive: exit hooks kill it instead.
    child.unref();
    const pid = child.pid;
    const reg = registry();
    reg.pids.add(pid);
    void this.exited.then(() => reg.pids.delete(pid));
    await this.waitReady();
  }

  private waitReady(): Promise<void> {
    return waitForPong(
      this,
      this.opts.readyTimeoutMs ?? 10000,
      async () => {
        if (this.spawnError) throw this.spawnFailure(this.spawnError);
        if (this.running) return undefined;
        const c = this.child;
        return `exited (code ${c?.exitCode ?? '-'}, signal ${c?.signalCode ?? '-'})`;
      },
      (problem, log) => this.describe(problem, log),
    );
  }

  private spawnFailure(error: Error): Error {
    const hint =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? ' (redis-server is not installed: run `make test`, which installs it)'
        : '';
    return new Error(`cannot start ${REDIS_SERVER}: ${error.message}${hint}`);
  }

  private describe(problem: string, log: string): string {
    return (
      `redis ${this.host}:${this.port} ${problem}\n` +
      `  command: ${REDIS_SERVER} ${this.args.map((a) => (a === '' ? '""' : a)).join(' ')}\n` +
      `  last log lines (${this.logFile}):\n${log.replace(/^/gm, '    ')}`
    );
  }

  /** SIGTERM, then SIGKILL if it has not exited after 3 s; resolves once it has exited. */
  async stop(): Promise<void> {
    if (!this.running || !this.child) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
    });
    const result = await Promise.race([this.waitExit(), graceOver]);
    clearTimeout(timer);
    if (result === 'timeout') await this.kill9();
  }

  async kill9(): Promise<void> {
    if (!this.running || !this.child) return;
    this.child.kill('SIGKILL');
    await this.waitExit();
  }

  /**
   * SIGSTOP (freeze) or SIGCONT (thaw), for fault tests: a frozen server keeps its sockets open
   * and answers nothing, like a stalled host, which a kill does not imitate.
   */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.running || !this.child) throw new Error(`redis ${this.port} is not running`);
    this.child.kill(signal);
  }

  /** The child is unref'd, so hold the event loop open until its exit has been reaped. */
  private async waitExit(): Promise<void> {
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await this.exited;
    } finally {
      clearInterval(keepAlive);
    }
  }

  async cleanup(): Promise<void> {
    if (this.running) throw new Error(`stop redis ${this.host}:${this.port} before cleanup()`);
    if (KEEP_DIRS) {
      console.log(`holdfast harness: kept ${this.dir}`);
      return;
    }
    await fsp.rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
    registry().dirs.delete(this.dir);
  }

  async logTail(lines = 20): Promise<string> {
    const read = async (file: string): Promise<string> => {
      try {
        return await fsp.readFile(path.join(this.dir, file), 'utf8');
      } catch {
        return '';
      }
    };
    const text = (await read('stdout.log')) + (await read('redis.log'));
    return text.trimEnd().split('\n').slice(-lines).join('\n') || '(empty)';
  }
}

/**
 * Creates and starts a server. Without an explicit port it picks a free one, and picks again
 * (up to 5 times) if another process took that port before redis-server could bind it.
 */
export async function startRedis(opts: RedisProcessOptions = {}): Promise<RedisProcess> {
  for (let attempt = 1; ; attempt++) {
    const port =
      opts.port ?? (opts.clusterPorts ? (await freeClusterPorts(1))[0] : await freePort());
    const proc = await RedisProcess.create(port, opts);
    try {
      await proc.start();
      return proc;
    } catch (error) {
      await proc.destroy();
      if (!(error instanceof PortInUseError) || opts.port !== undefined || attempt >= 5) {
        throw error;
      }
    }
  }
}

/**
 * Kills redis servers left by a test process that died without running its exit hooks (e.g.
 * SIGKILLed), and removes their directories. Only directories whose owner process is gone are
 * touched, and a server is killed only if its working directory is that directory, so servers
 * of a concurrent run and unrelated processes are safe.
 */
export async function reapOrphans(): Promise<number> {
  const tmp = os.tmpdir();
  let reaped = 0;
  for (const name of await fsp.readdir(tmp)) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = path.join(tmp, name);
    const owner = Number(await fsp.readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => ''));
    if (!Number.isInteger(owner) || owner <= 0 || pidExists(owner)) continue;
    const pid = Number(await fsp.readFile(path.join(dir, 'redis.pid'), 'utf8').catch(() => ''));
    if (Number.isInteger(pid) && pid > 0) {
      // Redis chdir()s into --dir, so its cwd proves the pid is still that server.
      const cwd = await fsp.readlink(`/proc/${pid}/cwd`).catch(() => '');
      if (cwd === dir) {
        try {
          process.kill(pid, 'SIGKILL');
          reaped++;
        } catch {
          // exited meanwhile
        }
      }
    }
    await fsp.rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
  return reaped;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
