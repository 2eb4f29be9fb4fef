import pino, { Logger } from 'pino';

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
  return pino(options, format === 'pretty' ? prettyStream(destination) : destination);
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
