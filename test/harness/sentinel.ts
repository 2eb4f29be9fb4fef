/**
 * A Sentinel deployment of local processes: one master, one replica, and (by default) three
 * sentinels. Ready only when the replica is linked and every sentinel knows the master, the
 * replica and the other sentinels, i.e. when a failover could actually be authorised.
 */
import { replicationArgs } from './node-common';
import { RedisProcess, startRedis } from './redis-process';
import { redisCommand, type RespReply } from './resp';
import type { Endpoint, RedisNode, RedisSentinelHandle, SentinelOptions } from './types';
import { notYet, waitUntil, type NotYet } from './wait';

/** SENTINEL MASTER <name> replies with a flat field/value list. */
function pairs(reply: RespReply): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!Array.isArray(reply)) return fields;
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
  return fields;
}

function sentinelConfig(name: string, master: Endpoint, o: Required<SentinelConfigParts>): string {
  return [
    // Must come before `sentinel monitor`: addresses stay IPs, no DNS lookups.
    'sentinel resolve-hostnames no',
    `sentinel monitor ${name} ${master.host} ${master.port} ${o.quorum}`,
    `sentinel down-after-milliseconds ${name} ${o.downAfterMs}`,
    `sentinel failover-timeout ${name} ${o.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${name} 1`,
    ...(o.password === '' ? [] : [`sentinel auth-pass ${name} ${o.password}`]),
    '',
  ].join('\n');
}

interface SentinelConfigParts {
  quorum?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  password?: string;
}

/** A Sentinel set over harness nodes: local processes here, containers in containers.ts. */
export class LocalSentinelSet<N extends RedisNode = RedisProcess> implements RedisSentinelHandle {
  readonly sentinels: Endpoint[];

  constructor(
    readonly name: string,
    readonly master: N,
    readonly replica: N,
    readonly sentinelNodes: N[],
    readonly password?: string,
  ) {
    this.sentinels = sentinelNodes.map((s) => ({ host: s.host, port: s.port }));
  }

  /** Every process: data nodes first, then sentinels. */
  get processes(): N[] {
    return [this.master, this.replica, ...this.sentinelNodes];
  }

  private async masterAddr(sentinel: Endpoint): Promise<Endpoint> {
    const reply = await redisCommand(sentinel, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name], {
      timeoutMs: 1000,
    });
    if (!Array.isArray(reply))
      throw new Error(`sentinel ${sentinel.port} does not know ${this.name}`);
    return { host: String(reply[0]), port: Number(reply[1]) };
  }

  async currentMaster(): Promise<Endpoint> {
    let lastError: unknown = new Error('no sentinel answers');
    for (const sentinel of this.sentinels) {
      try {
        return await this.masterAddr(sentinel);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  async waitForFailover(previous: Endpoint, timeoutMs = 30000): Promise<Endpoint> {
    return waitUntil(
      `sentinels to move ${this.name} away from ${previous.host}:${previous.port}`,
      async () => {
        let agreed: Endpoint | undefined;
        for (const sentinel of this.sentinelNodes) {
          if (!(await sentinel.isAlive())) continue;
          const addr = await this.masterAddr(sentinel);
          if (addr.host === previous.host && addr.port === previous.port) {
            return notYet(`sentinel ${sentinel.port} still reports ${addr.port}`);
          }
          if (agreed && agreed.port !== addr.port) return notYet('sentinels disagree');
          agreed = addr;
        }
        return agreed ?? notYet('no sentinel answers');
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Waits until the replica is linked and every sentinel sees master, replica and peers. */
  async waitForReady(timeoutMs: number): Promise<void> {
    await waitUntil(`sentinel set ${this.name} ready`, () => this.readyProbe(), {
      timeoutMs,
      intervalMs: 50,
    });
  }

  private async readyProbe(): Promise<true | NotYet> {
    const replication = await this.replica.info('replication');
    if (replication.master_link_status !== 'up') {
      return notYet(
        `replica ${this.replica.port}: master_link_status ${replication.master_link_status}`,
      );
    }
    const peers = String(this.sentinelNodes.length - 1);
    for (const sentinel of this.sentinelNodes) {
      const addr = await this.masterAddr(sentinel);
      if (addr.port !== this.master.port) {
        return notYet(`sentinel ${sentinel.port} reports master ${addr.host}:${addr.port}`);
      }
      const state = pairs(await sentinel.command(['SENTINEL', 'MASTER', this.name]));
      if (state.flags !== 'master')
        return notYet(`sentinel ${sentinel.port}: flags ${state.flags}`);
      if (state['num-slaves'] !== '1') {
        return notYet(`sentinel ${sentinel.port}: num-slaves ${state['num-slaves']}`);
      }
      // Peers are found through hello messages (every 2 s); without them no failover is voted.
      if (state['num-other-sentinels'] !== peers) {
        return notYet(
          `sentinel ${sentinel.port}: num-other-sentinels ${state['num-other-sentinels']}`,
        );
      }
    }
    return true;
  }

  /** SIGKILLs every process (the data is discarded anyway) and removes the dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill9()));
    await Promise.all(this.processes.map((p) => p.cleanup()));
  }
}

/** How a provider starts one server: a data node, or with kind 'sentinel' a sentinel. */
export type StartServer<N extends RedisNode> = (opts: {
  extraArgs?: string[];
  kind?: 'server' | 'sentinel';
  configText?: string;
}) => Promise<N>;

/** Starts master, replica and sentinels as local processes. */
export function startSentinelSet(opts: SentinelOptions = {}): Promise<LocalSentinelSet> {
  return formSentinelSet(opts, startRedis);
}

/** Starts master, replica and sentinels; on failure stops whatever started, then throws. */
export async function formSentinelSet<N extends RedisNode>(
  opts: SentinelOptions,
  startServer: StartServer<N>,
): Promise<LocalSentinelSet<N>> {
  const name = opts.name ?? 'mymaster';
  const { args: dataArgs, password } = replicationArgs(opts.extraArgs ?? []);
  const timeoutMs = opts.readyTimeoutMs ?? 30000;
  const started: N[] = [];
  try {
    const master = await startServer({ extraArgs: dataArgs });
    started.push(master);
    const replica = await startServer({
      extraArgs: [...dataArgs, '--replicaof', master.host, String(master.port)],
    });
    started.push(replica);
    const config = sentinelConfig(name, master, {
      quorum: opts.quorum ?? 2,
      downAfterMs: opts.downAfterMs ?? 2000,
      failoverTimeoutMs: opts.failoverTimeoutMs ?? 5000,
      password: password ?? '',
    });
    const sentinels = await Promise.allSettled(
      Array.from({ length: opts.sentinels ?? 3 }, () =>
        startServer({ kind: 'sentinel', configText: config }),
      ),
    );
    for (const s of sentinels) if (s.status === 'fulfilled') started.push(s.value);
    const failed = sentinels.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const set = new LocalSentinelSet(name, master, replica, started.slice(2), password);
    await set.waitForReady(timeoutMs);
    return set;
  } catch (error) {
    await Promise.all(started.map((p) => p.kill9()));
    await Promise.all(started.map((p) => p.cleanup()));
    throw error;
  }
}
