/**
 * A minimal RESP2 client for the harness itself: one short-lived connection per command, hard
 * timeouts, no reconnect or offline queue. Readiness checks must fail fast and never hang on a
 * dead server, which a full client with retries makes harder to guarantee.
 */
import net from 'node:net';
import type { Endpoint } from './types';

export type RespReply = string | number | null | RespReply[];

/** An error reply from the server (-ERR ..., -LOADING ..., -NOAUTH ...). */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

export interface CommandOptions {
  password?: string;
  /** Whole round trip, connect included (default 1000 ms). */
  timeoutMs?: number;
}

function encode(args: ReadonlyArray<string | number>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const value = Buffer.from(String(arg));
    parts.push(Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

type Parsed = { value: RespReply | RedisReplyError; end: number } | undefined;

/** Parses one reply starting at `start`; undefined when the buffer holds only part of it. */
function parse(buf: Buffer, start: number): Parsed {
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[start]);
  const line = buf.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RedisReplyError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespReply[] = [];
      let offset = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buf, offset);
        if (item === undefined) return undefined;
        // An error nested in an array (e.g. EXEC) is kept as its message.
        items.push(item.value instanceof RedisReplyError ? item.value.message : item.value);
        offset = item.end;
      }
      return { value: items, end: offset };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/** Sends one command (after AUTH when a password is given) and resolves with its reply. */
export function redisCommand(
  endpoint: Endpoint,
  args: ReadonlyArray<string | number>,
  opts: CommandOptions = {},
): Promise<RespReply> {
  const timeoutMs = opts.timeoutMs ?? 1000;
  const commands = opts.password === undefined ? [args] : [['AUTH', opts.password], args];
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    const replies: Array<RespReply | RedisReplyError> = [];
    let buffer: Buffer = Buffer.alloc(0);
    const finish = (error: Error | undefined, value?: RespReply): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? null);
    };
    const timer = setTimeout(
      () =>
        finish(new Error(`${endpoint.host}:${endpoint.port} ${args[0]}: timeout ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.setNoDelay(true);
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish(new Error(`${endpoint.host}:${endpoint.port} closed`)));
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      try {
        for (;;) {
          const parsed = parse(buffer, 0);
          if (parsed === undefined) return;
          replies.push(parsed.value);
          buffer = buffer.subarray(parsed.end);
          if (replies.length === commands.length) break;
        }
      } catch (error) {
        finish(error as Error);
        return;
      }
      const failed = replies.find((r): r is RedisReplyError => r instanceof RedisReplyError);
      if (failed) finish(failed);
      else finish(undefined, replies[replies.length - 1] as RespReply);
    });
    socket.write(Buffer.concat(commands.map(encode)));
  });
}

/** INFO text → flat field → value map (section headers and blank lines dropped). */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}
