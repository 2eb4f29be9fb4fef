/**
 * Steady authenticated load through a client that honours readiness, like a Kubernetes Service:
 * a backend whose /health/ready does not answer 200 gets no traffic. Bounded in count and time,
 * loopback only. Every request is counted by outcome, so a fault scenario can say how many
 * requests users saw fail and how.
 */
import http from 'node:http';
import { LOOPBACK } from '../harness';

/** A backend (`holdfast start` node) the pool can send to. */
export interface Backend {
  readonly name: string;
  readonly port: number;
}

/** How often readiness is probed, and how long a probe may take before it counts as not ready. */
export const READY_PROBE_MS = 100;
export const READY_PROBE_TIMEOUT_MS = 500;

/**
 * Backends and their readiness, probed every READY_PROBE_MS (a k8s readinessProbe does the
 * same, only slower: periodSeconds 1 at best). A backend is added when a node starts and
 * removed when it is stopped for good.
 */
export class ReadinessPool {
  private readonly ready = new Map<Backend, boolean>();
  private timer?: NodeJS.Timeout;
  private next = 0;

  add(backend: Backend): void {
    this.ready.set(backend, false);
    void this.probe(backend);
  }

  remove(backend: Backend): void {
    this.ready.delete(backend);
  }

  start(): void {
    this.timer = setInterval(() => {
      for (const b of this.ready.keys()) void this.probe(b);
    }, READY_PROBE_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The next ready backend, round robin, or undefined when none is ready. */
  pick(): Backend | undefined {
    const ready = [...this.ready].filter(([, r]) => r).map(([b]) => b);
    if (ready.length === 0) return undefined;
    return ready[this.next++ % ready.length];
  }

  readyCount(): number {
    return [...this.ready.values()].filter(Boolean).length;
  }

  private async probe(b: Backend): Promise<void> {
    const reply = await send(b.port, 'GET', '/health/ready', {}, READY_PROBE_TIMEOUT_MS);
    if (this.ready.has(b)) this.ready.set(b, reply.kind === 'answer' && reply.status === 200);
  }
}

export type Outcome =
  | { kind: 'answer'; status: number; headers: http.IncomingHttpHeaders; body: string }
  | { kind: 'timeout' }
  | { kind: 'error'; code: string };

/** One HTTP request on a fresh connection, never rejecting: the outcome says what happened. */
export function send(
  port: number,
  method: string,
  path: string,
  opts: { cookie?: string; body?: unknown; origin?: boolean },
  timeoutMs: number,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = http.request(
      {
        host: LOOPBACK,
        port,
        path,
        method,
        agent: false,
        headers: {
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
          ...(opts.cookie ? { cookie: opts.cookie } : {}),
          // The JSON API's CSRF defence: state-changing calls carry the site's own Origin.
          ...(opts.origin ? { origin: `http://${LOOPBACK}:${port}` } : {}),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () =>
          resolve({ kind: 'answer', status: res.statusCode ?? 0, headers: res.headers, body }),
        );
        res.on('error', (e: NodeJS.ErrnoException) =>
          resolve({ kind: 'error', code: e.code ?? e.message }),
        );
      },
    );
    let timedOut = false;
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve(timedOut ? { kind: 'timeout' } : { kind: 'error', code: e.code ?? e.message }),
    );
    req.setTimeout(timeoutMs, () => {
      timedOut = true;
      req.destroy();
    });
    req.end(payload);
  });
}

/** A signed-in user of the load: the session cookie, and whether the test revoked it. */
export interface LoadSession {
  readonly email: string;
  readonly cookie: string;
  revoked: boolean;
  /** The node and time of every 401 it got while not revoked (a spurious logout). */
  readonly spurious401: string[];
}

export interface LoadCounts {
  requests: number;
  ok2xx: number;
  /** 401 for a session the test had not revoked: a user logged out by a fault. */
  unauthorized: number;
  /** 2xx for a session the test had revoked: a revoked session accepted. */
  revokedAccepted: number;
  /** 401 for a revoked session: the right answer. */
  revokedRefused: number;
  unavailableReads: number;
  unavailableWrites: number;
  /** Any other status (4xx/5xx that is not 401/503). */
  otherStatus: Record<string, number>;
  /** No answer within the bound (NO_ANSWER_MS): the client gave up. */
  noAnswer: number;
  /** The connection failed (refused or reset) before any answer. */
  connectionErrors: Record<string, number>;
  /** Times a loop found no ready backend at all and waited 20 ms (no request sent). */
  noBackendWaits: number;
  sessionsCreated: number;
  /** Registrations that got no 201 (503, timeout): a session may or may not exist. */
  createsUnsure: number;
  slowestMs: number;
}

export interface LoadOptions {
  pool: ReadinessPool;
  sessions: LoadSession[];
  /** Concurrent request loops. */
  concurrency: number;
  /** Hard bounds: the load stops at whichever comes first (or at stop()). */
  maxSeconds: number;
  maxRequests: number;
  /** The client gives up on a request after this long and counts it as no answer. */
  answerTimeoutMs: number;
  /** Every n-th request of a loop registers a new user (a session-creating write); 0: never. */
  registerEvery: number;
  /** Pause between the requests of one loop, so the load is steady rather than saturating. */
  pauseMs: number;
  /** Unique part of the registered addresses. */
  tag: string;
}

const emptyCounts = (): LoadCounts => ({
  requests: 0,
  ok2xx: 0,
  unauthorized: 0,
  revokedAccepted: 0,
  revokedRefused: 0,
  unavailableReads: 0,
  unavailableWrites: 0,
  otherStatus: {},
  noAnswer: 0,
  connectionErrors: {},
  noBackendWaits: 0,
  sessionsCreated: 0,
  createsUnsure: 0,
  slowestMs: 0,
});

// Nothing of the addresses below (load., user., example) in it: the password policy refuses that.
export const LOAD_PASSWORD = 'steady traffic while things break 1';

/** Registers a user on `backend` and returns its session; undefined when it got no 201. */
export async function register(
  backend: Backend,
  email: string,
  timeoutMs: number,
): Promise<{ outcome: Outcome; session?: LoadSession }> {
  const outcome = await send(
    backend.port,
    'POST',
    '/auth/register',
    { body: { email, password: LOAD_PASSWORD }, origin: true },
    timeoutMs,
  );
  if (outcome.kind !== 'answer' || outcome.status !== 201) return { outcome };
  const cookie = (outcome.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
  return { outcome, session: { email, cookie, revoked: false, spurious401: [] } };
}

/**
 * The running load: GET /auth/me for each session in turn (revoked ones included: they must
 * keep getting 401), and a registration every `registerEvery` requests.
 */
export class Load {
  readonly counts = emptyCounts();
  private stopped = false;
  private readonly done: Promise<void>;
  readonly startedAt = Date.now();

  constructor(private readonly o: LoadOptions) {
    const deadline = this.startedAt + o.maxSeconds * 1000;
    this.done = Promise.all(
      Array.from({ length: o.concurrency }, (_, i) => this.loop(i, deadline)),
    ).then(() => undefined);
  }

  /** Stops sending and waits for the requests in flight. */
  async stop(): Promise<LoadCounts> {
    this.stopped = true;
    await this.done;
    return this.counts;
  }

  private async loop(i: number, deadline: number): Promise<void> {
    const c = this.counts;
    for (
      let n = 0;
      !this.stopped && Date.now() < deadline && c.requests < this.o.maxRequests;
      n++
    ) {
      const backend = this.o.pool.pick();
      if (!backend) {
        c.noBackendWaits++;
        await pause(20);
        continue;
      }
      const write =
        this.o.registerEvery > 0 && n % this.o.registerEvery === this.o.registerEvery - 1;
      const started = Date.now();
      let outcome: Outcome;
      let session: LoadSession | undefined;
      if (write) {
        const email = `load.${this.o.tag}.${i}.${n}@example.com`;
        const r = await register(backend, email, this.o.answerTimeoutMs);
        outcome = r.outcome;
        if (r.session) {
          this.o.sessions.push(r.session);
          c.sessionsCreated++;
        } else {
          c.createsUnsure++;
        }
      } else {
        session = this.o.sessions[(i * 7 + n) % this.o.sessions.length];
        outcome = await send(
          backend.port,
          'GET',
          '/auth/me',
          { cookie: session.cookie },
          this.o.answerTimeoutMs,
        );
      }
      c.requests++;
      c.slowestMs = Math.max(c.slowestMs, Date.now() - started);
      if (outcome.kind === 'timeout') c.noAnswer++;
      else if (outcome.kind === 'error')
        c.connectionErrors[outcome.code] = (c.connectionErrors[outcome.code] ?? 0) + 1;
      else if (outcome.status >= 200 && outcome.status < 300) {
        c.ok2xx++;
        if (session?.revoked) c.revokedAccepted++;
      } else if (outcome.status === 401) {
        if (session && !session.revoked) {
          c.unauthorized++;
          session.spurious401.push(`${backend.name} at +${started - this.startedAt} ms`);
        } else if (session) {
          c.revokedRefused++;
        }
      } else if (outcome.status === 503) {
        if (write) c.unavailableWrites++;
        else c.unavailableReads++;
      } else {
        const key = String(outcome.status);
        c.otherStatus[key] = (c.otherStatus[key] ?? 0) + 1;
      }
      await pause(this.o.pauseMs);
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
