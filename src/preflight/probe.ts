import net from 'node:net';
import tls from 'node:tls';
import { Redis } from 'ioredis';
import type { HostPort } from '../config';

/**
 * One connection to one Redis node (data node or sentinel) for the start-up checks: no retries,
 * no reconnects, no offline queue after connecting, and AUTH sent by hand so that every way it
 * can go wrong is told apart (ioredis would only warn about a password the server does not need).
 */

/** How connecting ended. Everything but `ok` leaves no client. */
export type ConnectOutcome =
  | 'ok'
  | 'refused'
  | 'timeout'
  | 'closed'
  | 'unresolved'
  | 'tls-expected'
  | 'tls-not-offered'
  | 'tls-untrusted'
  | 'tls-hostname'
  | 'tls-error'
  | 'error';

/** Outcomes where the node answered at some level: it is reachable, only the TLS setup is wrong. */
export const TLS_OUTCOMES: readonly ConnectOutcome[] = [
  'tls-expected',
  'tls-not-offered',
  'tls-untrusted',
  'tls-hostname',
  'tls-error',
];

export type AuthOutcome =
  'ok' | 'not-required' | 'unused-password' | 'missing-password' | 'wrong-password' | 'error';

export interface ProbeOptions {
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  /** Sentinels get no AUTH: the engine (ioredis) sends the data-node password to data nodes only. */
  readonly sendAuth: boolean;
  readonly connectTimeout: number;
  readonly commandTimeout: number;
}

const TLS_UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
]);

export class NodeProbe {
  private constructor(
    readonly endpoint: HostPort,
    readonly connect: ConnectOutcome,
    /** Why connecting failed, in words (no secret can be in it: no command was sent yet). */
    readonly connectDetail: string,
    readonly auth: AuthOutcome | undefined,
    readonly authDetail: string,
    private client: Redis | undefined,
  ) {}

  get label(): string {
    return formatEndpoint(this.endpoint);
  }

  /** Connected and authenticated (or no password needed): commands can be sent. */
  get usable(): boolean {
    return this.client !== undefined;
  }

  /** Connects, authenticates and PINGs. Never throws: the outcome says what happened. */
  static async open(endpoint: HostPort, opts: ProbeOptions): Promise<NodeProbe> {
    const errors: Error[] = [];
    const client = new Redis({
      host: endpoint.host,
      port: endpoint.port,
      tls: opts.tls ? {} : undefined,
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      reconnectOnError: () => false,
      connectTimeout: opts.connectTimeout,
      commandTimeout: opts.commandTimeout,
      autoResubscribe: false,
    });
    client.on('error', (err: Error) => errors.push(err));
    try {
      await client.connect();
    } catch (err) {
      quietly(client);
      const cause = errors[0] ?? (err as Error);
      const [outcome, detail] = await classifyConnectError(endpoint, cause, opts);
      return new NodeProbe(endpoint, outcome, detail, undefined, '', undefined);
    }
    // Any later connection loss fails the pending command at once instead of queueing it.
    client.options.enableOfflineQueue = false;
    const [auth, authDetail] = await authenticate(client, opts);
    const usable = auth === 'ok' || auth === 'not-required' || auth === 'unused-password';
    if (!usable) quietly(client);
    return new NodeProbe(endpoint, 'ok', '', auth, authDetail, usable ? client : undefined);
  }

  /** Sends one command; errors (replies or connection) are thrown as they are. */
  async call(...args: (string | number)[]): Promise<unknown> {
    if (!this.client) throw new Error(`${this.label}: not connected`);
    const [command, ...rest] = args;
    return this.client.call(String(command), ...rest);
  }

  /** The ioredis client, for helpers of the store that take one (recordMeta). */
  get redis(): Redis | undefined {
    return this.client;
  }

  close(): void {
    const c = this.client;
    this.client = undefined;
    if (c) quietly(c);
  }
}

/**
 * Disconnects unless already closed: ioredis arms a 2 s timer on disconnect() that a socket
 * closed before never clears, which would hold a short-lived CLI process open.
 */
function quietly(client: Redis): void {
  if (client.status !== 'end') client.disconnect();
}

export function formatEndpoint(e: HostPort): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

async function authenticate(client: Redis, opts: ProbeOptions): Promise<[AuthOutcome, string]> {
  let outcome: AuthOutcome = 'not-required';
  let detail = '';
  if (opts.sendAuth && opts.password !== undefined) {
    const args = opts.username ? [opts.username, opts.password] : [opts.password];
    try {
      await client.call('AUTH', ...args);
      outcome = 'ok';
    } catch (err) {
      const message = (err as Error).message;
      // The reply never contains the password; it is kept short all the same.
      if (/without any password configured|no password is set/i.test(message)) {
        outcome = 'unused-password';
      } else if (/^WRONGPASS|invalid (username-)?password/i.test(message)) {
        return ['wrong-password', firstWords(message)];
      } else {
        return ['error', firstWords(message)];
      }
    }
  }
  try {
    await client.call('PING');
  } catch (err) {
    const message = (err as Error).message;
    if (/^NOAUTH/.test(message)) return ['missing-password', firstWords(message)];
    // LOADING and the like are not about authentication: the checks after this one see them.
    if (!/^(LOADING|MASTERDOWN|BUSY)/.test(message)) {
      if (/^NOPERM/.test(message)) return ['error', firstWords(message)];
      detail = firstWords(message);
    }
  }
  return [outcome, detail];
}

function firstWords(message: string): string {
  const line = message.split('\n')[0];
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

async function classifyConnectError(
  endpoint: HostPort,
  err: Error,
  opts: ProbeOptions,
): Promise<[ConnectOutcome, string]> {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const message = firstWords(err.message);
  if (code === 'ECONNREFUSED') return ['refused', 'connection refused'];
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return ['unresolved', `${endpoint.host} does not resolve (${code})`];
  // Node 24 appends its own advice after "; " (--use-system-ca); the check's hint gives ours, so
  // keep OpenSSL's reason only and print the same line on every supported Node.
  if (TLS_UNTRUSTED.has(code))
    return ['tls-untrusted', `certificate not trusted: ${message.split('; ')[0]}`];
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return ['tls-hostname', message];
  // A TLS client talking to a plain server and a plain client talking to a TLS server both end
  // in a timeout or a dropped connection: ask the other protocol to tell which.
  if (opts.tls) {
    if (await speaksPlainRedis(endpoint, opts.connectTimeout)) {
      return ['tls-not-offered', 'answers without TLS'];
    }
    if (code === 'EPROTO' || code.startsWith('ERR_SSL')) return ['tls-error', message];
  } else if (await offersTls(endpoint, opts.connectTimeout)) {
    return ['tls-expected', 'expects a TLS handshake'];
  }
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(message)) {
    return ['timeout', `no answer within ${opts.connectTimeout} ms`];
  }
  if (code === 'ECONNRESET' || /closed/i.test(message))
    return ['closed', 'connection closed by the server'];
  return ['error', code ? `${code}: ${message}` : message];
}

/** Whether the port answers a plain-text PING with a RESP reply (any: +PONG, -NOAUTH, -LOADING). */
export function speaksPlainRedis(endpoint: HostPort, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data[0] === 0x2b || data[0] === 0x2d));
  });
}

/** Whether the port completes a TLS handshake (certificate not verified: this only asks "TLS?"). */
export function offersTls(endpoint: HostPort, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: endpoint.host,
      port: endpoint.port,
      rejectUnauthorized: false,
      servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
    });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('secureConnect', () => done(true));
  });
}
