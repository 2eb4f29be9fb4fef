/**
 * `holdfast` as an operator runs it: a child process (`node -r ts-node/register/transpile-only
 * src/cli/main.ts ...`), its output kept under test-artifacts/logs for the secret scan, HTTP
 * probes, and a watcher that proves a port was never opened.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../harness';
import type { Endpoint } from '../harness';
import { canary, LOG_DIR } from '../harness/logs';

export { canary };
export const ROOT = path.join(__dirname, '../..');

export interface HoldfastProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout + stderr so far. */
  output(): string;
  stderrLines(): string[];
  stdoutLines(): string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** SIGKILL if still running (test cleanup). */
  kill(): void;
}

/**
 * Starts `holdfast ARGS` with only `env` (plus PATH and HOME); its output is appended to
 * test-artifacts/logs/e2e-<suite>-<logName>.log (`suite`: the e2e folder, default process).
 */
export function spawnHoldfast(
  args: string[],
  env: NodeJS.ProcessEnv,
  logName: string,
  wrapper: string[] = [],
  suite = 'process',
): HoldfastProcess {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const log = fs.createWriteStream(path.join(LOG_DIR, `e2e-${suite}-${logName}.log`), {
    flags: 'a',
  });
  const command = [
    ...wrapper,
    process.execPath,
    '-r',
    'ts-node/register/transpile-only',
    'src/cli/main.ts',
    ...args,
  ];
  // A clean environment: nothing of the test runner's own (NODE_ENV=test) leaks into the node.
  const child = spawn(command[0], command.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d;
    log.write(d);
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d;
    log.write(d);
  });
  // The log ends when the pipes close, not at exit: workers share the primary's stdout and may
  // still write after it exited (a CI run failed with "write after end").
  child.once('close', () => log.end());
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return {
    child,
    pid: child.pid as number,
    output: () => stdout + stderr,
    stderrLines: () => stderr.split('\n').filter(Boolean),
    stdoutLines: () => stdout.split('\n').filter(Boolean),
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * spawnHoldfast for a file whose nodes must not outlive their test: every node started through
 * the returned function is killed after the test that started it (afterEach).
 */
export function spawnPerTest(): typeof spawnHoldfast {
  const running: HoldfastProcess[] = [];
  afterEach(() => {
    for (const p of running.splice(0)) p.kill();
  });
  return (...args) => {
    const p = spawnHoldfast(...args);
    running.push(p);
    return p;
  };
}

/** A production environment for `holdfast start` on one standalone Redis. */
export async function productionEnv(
  redis: Endpoint | undefined,
  extra: NodeJS.ProcessEnv = {},
): Promise<NodeJS.ProcessEnv> {
  const cookiePassword = randomBytes(30).toString('base64');
  canary(cookiePassword);
  return {
    HOLDFAST_ENV: 'production',
    HOLDFAST_COOKIE__PASSWORD: cookiePassword,
    HOLDFAST_HTTP__HOST: '127.0.0.1',
    HOLDFAST_HTTP__PORT: String(await freePort()),
    HOLDFAST_METRICS__HOST: '127.0.0.1',
    HOLDFAST_METRICS__PORT: String(await freePort()),
    HOLDFAST_WORKERS: '2',
    HOLDFAST_LOG__LEVEL: 'info',
    HOLDFAST_STORE__REDIS__MODE: 'standalone',
    ...(redis ? { HOLDFAST_STORE__REDIS__NODES: `${redis.host}:${redis.port}` } : {}),
    HOLDFAST_STORE__REDIS__CONNECT_TIMEOUT: '1s',
    HOLDFAST_STORE__REDIS__COMMAND_TIMEOUT: '500ms',
    HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER: '0',
    HOLDFAST_STORE__REDIS__KEY_PREFIX: `e2e${randomBytes(3).toString('hex')}`,
    HOLDFAST_SHUTDOWN__DRAIN_DELAY: '300ms',
    HOLDFAST_SHUTDOWN__TIMEOUT: '10s',
    ...extra,
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export function request(
  port: number,
  pathname: string,
  opts: {
    method?: string;
    body?: unknown;
    cookie?: string;
    /** More request headers, e.g. an Origin for the CSRF check of state-changing routes. */
    headers?: http.OutgoingHttpHeaders;
    agent?: http.Agent;
    timeoutMs?: number;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        method: opts.method ?? 'GET',
        agent: opts.agent ?? false,
        headers: {
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
          ...(opts.cookie ? { cookie: opts.cookie } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A probe must never hang: a connection accepted while no worker runs can wait forever.
    req.setTimeout(opts.timeoutMs ?? 5000, () =>
      req.destroy(new Error(`${pathname}: no answer in time`)),
    );
    req.end(payload);
  });
}

/** The cookies a response sets, as a Cookie header value. */
export function cookiesOf(reply: Reply): string {
  return (reply.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
}

/** Polls until `probe` returns a value (not undefined); the error names what it last saw. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits for /health/ready to answer `status` (a node not listening yet counts as not ready). */
export function waitReady(
  port: number,
  status = 200,
  timeoutMs = 60_000,
  consecutive = 1,
): Promise<Reply> {
  // Each worker answers for itself: several answers in a row let every worker of a node say so.
  let seen = 0;
  return waitFor(
    `/health/ready ${status} on ${port}${consecutive > 1 ? ` ${consecutive} times in a row` : ''}`,
    async () => {
      const r = await request(port, '/health/ready');
      seen = r.status === status ? seen + 1 : 0;
      return seen >= consecutive ? r : undefined;
    },
    timeoutMs,
  );
}

/**
 * Tries an HTTP request on the port every few milliseconds until stopped; says whether anything
 * ever answered. Proves "nothing served" over a whole run, not just at its end. A connection
 * that is accepted and then reset without a byte does not count: preflight's process.ports check
 * binds the port for a moment (listen, then close) on every attempt, and a connect can land in
 * that window.
 */
export function watchPort(port: number): { stop(): Promise<boolean> } {
  let opened = false;
  let running = true;
  const loop = (async () => {
    while (running) {
      opened ||= await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.once('connect', () => s.write('GET /health/live HTTP/1.0\r\n\r\n'));
        s.once('data', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => undefined); // 'close' follows
        s.once('close', () => resolve(false));
      });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return opened;
    },
  };
}

/** Child processes of `pid` (the workers of a primary), from /proc. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may contain spaces, so read after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z') out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}
