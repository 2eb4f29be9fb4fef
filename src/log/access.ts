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
 */
export class AccessLog {
  private readonly out: Logger;
  private readonly level: 'info' | 'debug' | null;
  private readonly errors: boolean;

  constructor(logger: Logger, level: AccessLogLevel) {
    this.out = logger.child({}, { redact: [] });
    this.level = level !== 'off' && this.out.isLevelEnabled(level) ? level : null;
    this.errors = this.out.isLevelEnabled('error');
  }

  /** Whether a line for this status would be written: the caller builds none otherwise. */
  wants(status: number | undefined): boolean {
    return status !== undefined && status >= 500 ? this.errors : this.level !== null;
  }

  write(line: AccessLine): void {
    if (line.status !== undefined && line.status >= 500) {
      if (this.errors) this.out.error(line, 'request');
    } else if (this.level !== null) {
      this.out[this.level](line, 'request');
    }
  }
}
