/**
 * What every harness node does the same way, whether it is a local process (redis-process.ts)
 * or a container (containers.ts): PING readiness, commands over RESP, replication arguments.
 */
import { parseInfo, redisCommand, type RespReply } from './resp';
import type { Endpoint, RedisNode } from './types';
import { sleep } from './wait';

/** The value following `flag` in an argument list (e.g. the --requirepass password). */
export function argValue(args: readonly string[], flag: string): string | undefined {
  const i = args.lastIndexOf(flag);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
}

/** The port went away between our probe and the server's bind: start again elsewhere. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/**
 * The arguments of a node that replicates or is replicated (cluster and Sentinel nodes): fast
 * diskless sync (without it a replica waits ~5 s before its first full sync), masterauth from
 * --requirepass unless given, then `extraArgs`; and that password.
 */
export function replicationArgs(extraArgs: readonly string[]): {
  args: string[];
  password?: string;
} {
  const password = argValue(extraArgs, '--requirepass');
  const args = [
    '--repl-diskless-sync',
    'yes',
    '--repl-diskless-sync-delay',
    '0',
    ...(password !== undefined && argValue(extraArgs, '--masterauth') === undefined
      ? ['--masterauth', password]
      : []),
    ...extraArgs,
  ];
  return { args, password };
}

/** A node as the helpers below need it. */
export interface PingableNode extends Endpoint {
  readonly password?: string;
  logTail(lines?: number): Promise<string>;
  kill9(): Promise<void>;
}

/** Whether the node answers PING with PONG within 500 ms. */
export async function answersPing(node: PingableNode): Promise<boolean> {
  try {
    const reply = await redisCommand(node, ['PING'], {
      password: node.password,
      timeoutMs: 500,
    });
    return reply === 'PONG';
  } catch {
    return false;
  }
}

/** One command on the node (5 s deadline). */
export function nodeCommand(
  node: PingableNode,
  args: ReadonlyArray<string | number>,
): Promise<RespReply> {
  return redisCommand(node, args, { password: node.password, timeoutMs: 5000 });
}

/** INFO (or one section of it) as a map. */
export async function nodeInfo(
  node: PingableNode,
  section?: string,
): Promise<Record<string, string>> {
  const reply = await nodeCommand(node, section === undefined ? ['INFO'] : ['INFO', section]);
  return parseInfo(String(reply));
}

/**
 * Polls PING every 20 ms until PONG. `stopped` says how the server ended (undefined while it
 * runs); a server that ended, or that is still silent after `timeoutMs` (it is then killed),
 * throws an error `describe` builds from the problem and the log's last lines. "Address already
 * in use" in the log throws PortInUseError, so the caller can start it again on another port.
 */
export async function waitForPong(
  node: PingableNode,
  timeoutMs: number,
  stopped: () => Promise<string | undefined>,
  describe: (problem: string, log: string) => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    const how = await stopped();
    if (how !== undefined) {
      const log = await node.logTail();
      if (/Address already in use/.test(log)) {
        throw new PortInUseError(`port ${node.port} (or its bus port) is in use`);
      }
      throw new Error(describe(`${how} before answering PING`, log));
    }
    try {
      const reply = await redisCommand(node, ['PING'], {
        password: node.password,
        timeoutMs: 250,
      });
      if (reply === 'PONG') return;
      last = String(reply);
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) {
      const log = await node.logTail();
      await node.kill9();
      throw new Error(describe(`did not answer PING within ${timeoutMs} ms (${last})`, log));
    }
    await sleep(20);
  }
}

/**
 * What a harness node does the same way however it runs (RedisProcess, ContainerRedis): the
 * subclass says how to start, stop, kill and clean up the server and where its log is.
 */
export abstract class HarnessNode implements RedisNode, PingableNode {
  abstract readonly host: string;
  abstract readonly port: number;
  abstract readonly password?: string;
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
  abstract kill9(): Promise<void>;
  abstract cleanup(): Promise<void>;
  abstract logTail(lines?: number): Promise<string>;

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.stop();
    await this.cleanup();
  }

  isAlive(): Promise<boolean> {
    return answersPing(this);
  }

  command(args: ReadonlyArray<string | number>): Promise<RespReply> {
    return nodeCommand(this, args);
  }

  info(section?: string): Promise<Record<string, string>> {
    return nodeInfo(this, section);
  }
}
