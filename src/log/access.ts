import pino from 'pino';
import { LineBuffer } from './line-buffer';
import type { Logger } from './logger';

/** `log.access`: the level of the one line per request, or `off`. 5xx answers are always logged. */
export type AccessLogLevel = 'info' | 'debug' | 'off';

/** Every field of an access line: fixed scalars, never headers, cookies, query or payload. */
export interface AccessLine {
  readonly reqId: string;
  readonly method: string;
  /** The path without the query (a query might carry a token). */
  readonly path: string;
  /** Undefined when the client went away before an answer. */
  readonly status: number | undefined;
  readonly ms: number;
}

/**
 * The access log: one line per request at `log.access`, and a line at error for every 5xx
 * whatever `log.access` says. The lines go through a child of the process's logger (same stream,
 * same bindings) without redaction: the redaction paths walk every line (about 7 µs each,
 * measured in docs/performance.md) and these lines hold only the fixed fields of AccessLine.
 *
 * On a worker's buffered JSON stdout (a LineBuffer) the line is built here, the same bytes pino
 * would write (its level, time, the child's bindings, the fields, the message), and handed to the
 * stream: pino's generic line building cost about twice the line itself (ADR 255).
 * test/unit/log/access.test.ts holds both ways to the same output.
 */
export class AccessLog {
  private readonly out: Logger;
  private readonly level: 'info' | 'debug' | null;
  private readonly errors: boolean;
  /** The worker's buffered stdout, when lines are built here; null: through pino. */
  private readonly direct: LineBuffer | null;
  /** `{"level":N` for the access level and for error, as pino starts a line. */
  private readonly levelHead: string;
  private readonly errorHead: string;
  /** The logger's bindings as pino writes them (`,"pid":1,"worker":1`). */
  private readonly bindings: string;

  constructor(logger: Logger, level: AccessLogLevel) {
    this.out = logger.child({}, { redact: [] });
    this.level = level !== 'off' && this.out.isLevelEnabled(level) ? level : null;
    this.errors = this.out.isLevelEnabled('error');
    const symbols = pino.symbols as unknown as Record<'streamSym' | 'chindingsSym', symbol>;
    const fields = this.out as unknown as Record<symbol, unknown>;
    const stream = fields[symbols.streamSym];
    this.direct = stream instanceof LineBuffer ? stream : null;
    const values = this.out.levels.values;
    this.levelHead = `{"level":${values[this.level ?? 'info']}`;
    this.errorHead = `{"level":${values.error}`;
    this.bindings = (fields[symbols.chindingsSym] as string | undefined) ?? '';
  }

  /** Whether lines are built here and written to a LineBuffer (true), or go through pino. */
  get buildsLines(): boolean {
    return this.direct !== null;
  }

  /**
   * Whether a line for this status would be written: the caller builds none otherwise. `expected`:
   * a 5xx that is the route's normal answer (a readiness probe's 503), written like any status.
   */
  wants(status: number | undefined, expected = false): boolean {
    return isError(status, expected) ? this.errors : this.level !== null;
  }

  write(line: AccessLine, expected = false): void {
    if (isError(line.status, expected)) {
      if (!this.errors) return;
      if (this.direct) this.direct.write(this.format(this.errorHead, line));
      else this.out.error(line, 'request');
    } else if (this.level !== null) {
      if (this.direct) this.direct.write(this.format(this.levelHead, line));
      else this.out[this.level](line, 'request');
    }
  }

  /** pino's line for `line`: JSON.stringify escapes strings as pino's asString does. */
  private format(head: string, line: AccessLine): string {
    const status = line.status === undefined ? '' : `,"status":${finite(line.status)}`;
    return (
      `${head},"time":${Date.now()}${this.bindings},"reqId":${JSON.stringify(line.reqId)}` +
      `,"method":${JSON.stringify(line.method)},"path":${JSON.stringify(line.path)}${status}` +
      `,"ms":${finite(line.ms)},"msg":"request"}\n`
    );
  }
}

/** pino writes a number that is not finite as null. */
function finite(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

function isError(status: number | undefined, expected: boolean): boolean {
  return status !== undefined && status >= 500 && !expected;
}
