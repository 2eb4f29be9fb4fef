import { Cluster, Command } from 'ioredis';
import type { Logger } from '../../log/logger';
import type { RedisClient } from './connection';

/**
 * Why the store answered "unavailable" (a 503): the label of holdfast_store_unavailable_total and
 * the `cause` of the warn line. Reply errors by their first word; ioredis errors by message.
 */
export const UNAVAILABLE_CAUSES = [
  'tryagain',
  'moved',
  'ask',
  'clusterdown',
  'loading',
  'readonly',
  'masterdown',
  'busy',
  'noreplicas',
  'oom',
  'auth',
  'redirections',
  'timeout',
  // The request's whole deadline passed before the store answered (ADR 245).
  'deadline',
  'connection',
  'other',
] as const;
export type UnavailableCause = (typeof UNAVAILABLE_CAUSES)[number];

const REPLY_CAUSES: Record<string, UnavailableCause> = {
  TRYAGAIN: 'tryagain',
  MOVED: 'moved',
  ASK: 'ask',
  CLUSTERDOWN: 'clusterdown',
  LOADING: 'loading',
  READONLY: 'readonly',
  // The master this blocked WAIT ran on became a replica: the same state as READONLY.
  UNBLOCKED: 'readonly',
  MASTERDOWN: 'masterdown',
  BUSY: 'busy',
  NOREPLICAS: 'noreplicas',
  OOM: 'oom',
  NOAUTH: 'auth',
  WRONGPASS: 'auth',
};

/** Where a failed operation was headed: the client and one of its keys (for slot and node). */
export interface Target {
  readonly client: RedisClient;
  readonly key?: string;
}

export interface UnavailableReport {
  readonly cause: UnavailableCause;
  /** The error's class name (ReplyError, MaxRetriesPerRequestError, Error...). */
  readonly errorClass: string;
  readonly operation: string;
  /**
   * The node that last answered a retried redirect, else the one that owned the key's slot in the
   * client's map, or the standalone/sentinel node.
   */
  readonly node?: string;
  readonly slot?: number;
  /** For MOVED/ASK: the node the cluster redirected to. */
  readonly redirect?: string;
}

/** The cause of an unavailable-store error (one that isUnavailable accepted). */
export function causeOf(err: unknown): UnavailableCause {
  if (!(err instanceof Error)) return 'other';
  if (err.name === 'DeadlineError') return 'deadline';
  if (err.name === 'ReplyError') return REPLY_CAUSES[err.message.split(' ', 1)[0] ?? ''] ?? 'other';
  // ioredis gave up following redirects (or retrying a closed connection): name the last error.
  const last = /^Too many Cluster redirections\. Last error: (?:(\w+): )?(.*)$/s.exec(err.message);
  if (last) {
    const code = last[2].split(' ', 1)[0] ?? '';
    if (last[1] === 'ReplyError') return REPLY_CAUSES[code] ?? 'redirections';
    return causeOfMessage(last[2]) ?? 'redirections';
  }
  return causeOfMessage(err.message) ?? 'other';
}

function causeOfMessage(message: string): UnavailableCause | undefined {
  // An auto-pipelined batch whose slots changed owner while queued (see redirectOf).
  if (/same slots allocation group/.test(message)) return 'moved';
  if (/timed out|timeout/i.test(message)) return 'timeout';
  if (
    /connection|closed|ECONNREFUSED|ECONNRESET|EPIPE|EHOSTUNREACH|writeable|isn't ready|ready check|refresh slots|startup nodes|max retries|reached the max|is ended|not started/i.test(
      message,
    )
  )
    return 'connection';
  return undefined;
}

/** Slot of a key (Redis Cluster CRC16 with hash tags), through ioredis's own Command. */
export function slotOf(key: string): number {
  return new Command('exists', [key]).getSlot() ?? 0;
}

export function describe(operation: string, err: unknown, target?: Target): UnavailableReport {
  const cause = causeOf(err);
  const errorClass = err instanceof Error ? err.constructor.name || err.name : typeof err;
  const report: {
    cause: UnavailableCause;
    errorClass: string;
    operation: string;
    node?: string;
    slot?: number;
    redirect?: string;
  } = { cause, errorClass, operation };
  if (err instanceof Error && (cause === 'moved' || cause === 'ask')) {
    const [, slot, address] = err.message.split(' ');
    report.redirect = address;
    report.slot = Number(slot);
  }
  const hop = err instanceof Error ? (err as { node?: unknown }).node : undefined;
  if (typeof hop === 'string') report.node = hop;
  if (target) {
    const { client, key } = target;
    if (client instanceof Cluster) {
      if (key !== undefined) report.slot ??= slotOf(key);
      if (report.slot !== undefined) report.node ??= client.slots[report.slot]?.[0];
    } else {
      const { host, port } = client.options;
      if (host) report.node ??= `${host}:${port}`;
    }
  }
  return report;
}

/** One warn line per cause at most every this many ms; the ones in between are counted. */
export const LOG_INTERVAL_MS = 10_000;

/**
 * The process's record of 503s from the store: a count per cause (the metrics layer exports it
 * as holdfast_store_unavailable_total) and a rate-limited warn line per cause naming the error
 * class, node, slot and operation. Process-wide, like the store's clients' causes: the user
 * stores and the session engine share it, and the server gives it its logger.
 */
export class UnavailableLog {
  readonly counts: Record<UnavailableCause, number>;
  private logger: Logger | undefined;
  private readonly lastLogged = new Map<UnavailableCause, number>();
  private readonly suppressed = new Map<UnavailableCause, number>();

  constructor(private readonly now: () => number = Date.now) {
    this.counts = Object.fromEntries(UNAVAILABLE_CAUSES.map((c) => [c, 0])) as Record<
      UnavailableCause,
      number
    >;
  }

  useLogger(logger: Logger | undefined): void {
    this.logger = logger;
  }

  record(report: UnavailableReport): void {
    this.counts[report.cause]++;
    if (!this.logger) return;
    const now = this.now();
    const last = this.lastLogged.get(report.cause);
    if (last !== undefined && now - last < LOG_INTERVAL_MS) {
      this.suppressed.set(report.cause, (this.suppressed.get(report.cause) ?? 0) + 1);
      return;
    }
    const suppressed = this.suppressed.get(report.cause) ?? 0;
    this.lastLogged.set(report.cause, now);
    this.suppressed.set(report.cause, 0);
    this.logger.warn(
      { ...report, suppressed },
      `session store unavailable (503): ${report.cause} during ${report.operation}` +
        (report.node ? ` on ${report.node}` : '') +
        (report.slot !== undefined ? ` slot ${report.slot}` : '') +
        (suppressed ? ` (${suppressed} more since the last line)` : ''),
    );
  }

  /** Forgets the rate limit (tests). */
  reset(): void {
    this.lastLogged.clear();
    this.suppressed.clear();
  }
}

export const storeUnavailable = new UnavailableLog();
