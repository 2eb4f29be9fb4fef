import pino, { Logger } from 'pino';
import { LineBuffer } from './line-buffer';

/**
 * Paths pino replaces before anything is written: no password, cookie or token ever reaches a log,
 * even when a caller logs a whole request or settings object by mistake.
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  '*.*.password',
  'newPassword',
  '*.newPassword',
  'currentPassword',
  '*.currentPassword',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'cookie',
  '*.cookie',
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  'headers["set-cookie"]',
];

export type { Logger };

/** `log.format`: `auto` is readable lines on a terminal outside production, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  /** Default `json`: tests and tools that read log files get JSON unless they ask otherwise. */
  readonly format?: LogFormat;
  /** settings.env: `auto` never turns pretty in production (log shippers expect JSON). */
  readonly env?: string;
  /** Whether stdout is a terminal (default process.stdout.isTTY). */
  readonly isTTY?: boolean;
  /**
   * JSON lines to stdout are buffered (a LineBuffer, ADR 255): one write(2) carries up to
   * BUFFER_BYTES of lines, or what FLUSH_MS gathered, whichever comes first, made on this thread.
   * Call flushLogger() before process.exit: it writes what is still buffered (an `exit` hook does
   * too). Ignored with a destination or pretty lines.
   */
  readonly buffered?: boolean;
}

/** The format `auto` resolves to: pretty only for a person at a terminal, outside production. */
export function chooseLogFormat(
  format: LogFormat,
  env: string | undefined,
  isTTY: boolean,
): 'json' | 'pretty' {
  if (format !== 'auto') return format;
  return isTTY && env !== 'production' ? 'pretty' : 'json';
}

export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  opts: LoggerOptions = {},
): Logger {
  const format = chooseLogFormat(
    opts.format ?? 'json',
    opts.env,
    opts.isTTY ?? process.stdout.isTTY === true,
  );
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    // Redaction happens before formatting: pretty lines are as free of secrets as JSON ones.
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
  };
  if (format === 'pretty') return pino(options, prettyStream(destination));
  if (destination === undefined && opts.buffered) return pino(options, bufferedStdout());
  return pino(options, destination);
}

/** A buffered logger writes once this much is buffered (about a hundred access lines)... */
export const BUFFER_BYTES = 16_384;
/** ...or this often, so a quiet node's lines are not held back for long. */
export const FLUSH_MS = 1000;

function bufferedStdout(): LineBuffer {
  const stream = new LineBuffer(1, BUFFER_BYTES);
  // unref: the timer never keeps a process alive; flushLogger and the exit hook write the rest.
  setInterval(() => stream.flush(), FLUSH_MS).unref();
  // A second net under flushLogger: every exit that runs `exit` handlers writes the buffer.
  process.once('exit', () => stream.flushSync());
  return stream;
}

/**
 * Writes the lines a buffered logger still holds, synchronously: call it before
 * process.exit. pino also flushes on the process's `exit` event; this does not depend on the
 * order of exit handlers. Works on children (they share the root's stream); a stream without a
 * buffer (sync destinations, pretty lines) has nothing to flush.
 */
export function flushLogger(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    { flushSync?: () => void } | undefined;
  try {
    stream?.flushSync?.();
  } catch {
    // Not opened yet (nothing written) or stdout closed: nothing more can be written.
  }
}

/**
 * pino-pretty in this thread, writing synchronously: a development terminal needs no worker
 * thread (a pino transport), and a line is never lost when the process exits. Loaded only when
 * chosen, so a JSON process never pays for it.
 */
function prettyStream(destination?: pino.DestinationStream): pino.DestinationStream {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pretty = require('pino-pretty') as typeof import('pino-pretty');
  return pretty.build({
    destination: destination ?? 1,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
}
