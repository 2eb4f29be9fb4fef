/**
 * Provider-neutral shapes of the Redis deployments tests run against. The local-process
 * provider implements them with child processes; a container provider can implement the same
 * shapes (see provider.ts), so tests never depend on how the servers were started.
 */
import type { RespReply } from './resp';

export interface Endpoint {
  host: string;
  port: number;
}

/** One Redis server (data node or sentinel) that a test can inspect and break. */
export interface RedisNode extends Endpoint {
  /** The password given with --requirepass, if any (used by command() and ping()). */
  readonly password?: string;
  /** Whether the server answers PING now (a killed process may linger as <defunct>). */
  isAlive(): Promise<boolean>;
  /** Sends one command on a fresh connection and returns the reply; error replies throw. */
  command(args: ReadonlyArray<string | number>): Promise<RespReply>;
  /** INFO [section] as a flat field → value map. */
  info(section?: string): Promise<Record<string, string>>;
  /** Starts the server again on the same port with the same data directory and arguments. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM, SIGKILL after 3 s). Keeps the data directory. */
  stop(): Promise<void>;
  /** SIGKILL, for fault tests: no shutdown work, the AOF holds only what was fsynced. */
  kill9(): Promise<void>;
  /** stop() then start(): the server reloads its AOF / nodes.conf / sentinel config. */
  restart(): Promise<void>;
  /** Removes the data directory (the server must be stopped). */
  cleanup(): Promise<void>;
  /** stop() then cleanup(). */
  destroy(): Promise<void>;
  /** The last lines of the server's log, for failure messages. */
  logTail(lines?: number): Promise<string>;
}

export interface StandaloneOptions {
  /** Extra redis-server arguments, e.g. ['--requirepass', 'pw', '--maxmemory-policy', 'noeviction']. */
  extraArgs?: string[];
  /** AOF persistence (default true). */
  appendonly?: boolean;
  /** RDB save points, e.g. '3600 1' (default '': no snapshots). */
  save?: string;
}

export interface ClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** Extra redis-server arguments for every node. A --requirepass also sets --masterauth. */
  extraArgs?: string[];
  /** cluster-node-timeout in ms (default 2000). */
  nodeTimeoutMs?: number;
  /** How long bring-up may take before it fails (default 30 s). */
  readyTimeoutMs?: number;
}

export interface ClusterNodeView extends Endpoint {
  id: string;
  role: 'master' | 'replica';
  /** For a replica, the id of its master. */
  masterId?: string;
  flags: string[];
  /** Inclusive slot ranges served (masters only). */
  slots: Array<[number, number]>;
  /** The harness node behind this address, if the harness started it. */
  node?: RedisNode;
}

export interface WaitClusterOptions {
  timeoutMs?: number;
  /** Also require every slot-serving master to have this many linked replicas (default 0). */
  replicasPerMaster?: number;
}

export interface RedisClusterHandle {
  readonly nodes: RedisNode[];
  /** Every node's address: ioredis Cluster startup nodes. */
  readonly seeds: Endpoint[];
  readonly password?: string;
  /** The cluster as seen by a live node (CLUSTER NODES), dead nodes included with their flags. */
  topology(): Promise<ClusterNodeView[]>;
  /** Masters that serve slots now. */
  masters(): Promise<ClusterNodeView[]>;
  replicas(): Promise<ClusterNodeView[]>;
  /** The harness node at an address. */
  nodeAt(endpoint: Endpoint): RedisNode | undefined;
  /** CLUSTER KEYSLOT key, asked of a live node. */
  slotOf(key: string): Promise<number>;
  /** The master serving the slot of key now (CLUSTER KEYSLOT + CLUSTER SLOTS). */
  masterForKey(key: string): Promise<RedisNode>;
  /** SIGKILLs the master serving key's slot and returns it (restart() brings it back). */
  killMasterForKey(key: string): Promise<RedisNode>;
  /** Waits until every live node says cluster_state:ok and all slots are on live masters. */
  waitForHealthy(opts?: WaitClusterOptions): Promise<void>;
  /** Kills every node (the data is discarded) and removes their directories. */
  stop(): Promise<void>;
}

export interface SentinelOptions {
  /** Monitored master name (default 'mymaster'). */
  name?: string;
  /** Number of sentinels (default 3). */
  sentinels?: number;
  /** Votes needed to mark the master down (default 2). */
  quorum?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  /** Extra redis-server arguments for master and replica. A --requirepass also sets
   * --masterauth and the sentinels' auth-pass. */
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

export interface RedisSentinelHandle {
  readonly name: string;
  /** Sentinel addresses: ioredis `sentinels`. */
  readonly sentinels: Endpoint[];
  readonly sentinelNodes: RedisNode[];
  /** The master at start-up (after a failover it may be a replica, or dead). */
  readonly master: RedisNode;
  /** The replica at start-up. */
  readonly replica: RedisNode;
  readonly password?: string;
  /** The master address as reported by the first sentinel that answers. */
  currentMaster(): Promise<Endpoint>;
  /** Waits until every live sentinel reports a master other than `previous`, and returns it. */
  waitForFailover(previous: Endpoint, timeoutMs?: number): Promise<Endpoint>;
  /** Kills every process (the data is discarded) and removes their directories. */
  stop(): Promise<void>;
}
