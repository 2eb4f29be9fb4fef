/**
 * Reads a cluster's slot map and moves slots between masters (ADR 185), for `holdfast store
 * balance`. The move is the protocol redis-cli --cluster uses (clusterManagerMoveSlot): IMPORTING
 * on the target, MIGRATING on the source, MIGRATE the slot's keys in batches, then SETSLOT NODE on
 * the target, the source and every other master. Requests meet ASK/TRYAGAIN meanwhile, which the
 * store retries inside their deadline (ADR 130, 160).
 */
import { Cluster, Redis } from 'ioredis';
import type { HostPort, RedisSettings } from '../../config/settings';
import { StoreUnavailableError } from '../../errors';
import type { MasterSlots, SlotMove } from './balance';
import type { RedisClient } from './connection';

/** A master with the address its peers use (CLUSTER NODES), the one MIGRATE must name. */
export interface ClusterMaster extends MasterSlots {
  readonly host: string;
  readonly port: number;
}

/** Keys per MIGRATE (redis-cli's default --cluster-pipeline is 10; larger batches, fewer trips). */
export const MIGRATE_BATCH = 100;
/** MIGRATE's own timeout in ms (redis-cli: 60000); a batch of small records takes milliseconds. */
const MIGRATE_TIMEOUT_MS = 10_000;

/**
 * The masters in a CLUSTER NODES reply, those that serve no slot included (a new master is a
 * place to move shards to). Failing or handshaking nodes are left out: no slot can move to them.
 */
export function parseClusterNodes(text: string): ClusterMaster[] {
  const out: ClusterMaster[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length < 8) continue;
    const [id, addr, flags] = parts;
    const flagList = flags.split(',');
    if (!flagList.includes('master')) continue;
    if (flagList.some((f) => ['fail', 'fail?', 'handshake', 'noaddr'].includes(f))) continue;
    const hostPort = addr.split('@')[0];
    const colon = hostPort.lastIndexOf(':');
    const ranges: Array<[number, number]> = [];
    // Entries like [5461->-id] or [5461-<-id] are open migrations, not owned ranges.
    for (const r of parts.slice(8).filter((p) => !p.startsWith('['))) {
      const [a, b] = r.split('-').map(Number);
      ranges.push([a, b ?? a]);
    }
    out.push({
      id,
      address: hostPort,
      host: hostPort.slice(0, colon),
      port: Number(hostPort.slice(colon + 1)),
      ranges,
    });
  }
  return out.sort((a, b) => a.address.localeCompare(b.address));
}

/** The masters of the store: a Cluster's slot map, or the one server owning every slot. */
export async function readMasters(client: RedisClient): Promise<ClusterMaster[]> {
  try {
    if (!(client instanceof Cluster)) {
      const { host, port } = client.options;
      const address = `${String(host)}:${String(port)}`;
      return [
        { id: address, address, host: String(host), port: Number(port), ranges: [[0, 16383]] },
      ];
    }
    const node = client.nodes('master')[0] ?? client.nodes('all')[0];
    if (!node) throw new Error('no node connected');
    return parseClusterNodes(String(await node.call('CLUSTER', 'NODES')));
  } catch (err) {
    throw new StoreUnavailableError('CLUSTER NODES', err);
  }
}

export interface MoveProgress {
  readonly move: SlotMove;
  /** Keys MIGRATEd for this slot. */
  readonly keys: number;
  readonly ms: number;
  /** 1-based position among the moves. */
  readonly done: number;
  readonly total: number;
}

/**
 * Performs the moves one slot at a time, on connections of its own to each master (a master
 * with no slot yet is not in the Cluster client's pool). Stops at the first failure with a
 * StoreUnavailableError naming the slot; `redis-cli --cluster fix` closes a slot left open.
 */
export async function applyMoves(
  settings: RedisSettings,
  masters: readonly ClusterMaster[],
  moves: readonly SlotMove[],
  onProgress: (p: MoveProgress) => void,
): Promise<void> {
  const byId = new Map(masters.map((m) => [m.id, m]));
  const clients = new Map<string, Redis>();
  const client = (id: string): Redis => {
    const m = byId.get(id);
    if (!m) throw new StoreUnavailableError('slot move', `master ${id} is not in the slot map`);
    let c = clients.get(id);
    if (!c) {
      const at: HostPort = settings.natMap[m.address] ?? { host: m.host, port: m.port };
      c = new Redis({
        host: at.host,
        port: at.port,
        username: settings.username,
        password: settings.password,
        tls: settings.tls ? {} : undefined,
        connectTimeout: settings.connectTimeout,
        connectionName: 'holdfast-balance',
        maxRetriesPerRequest: 1,
        lazyConnect: true,
      });
      clients.set(id, c);
    }
    return c;
  };
  const auth: string[] = settings.password
    ? settings.username
      ? ['AUTH2', settings.username, settings.password]
      : ['AUTH', settings.password]
    : [];
  try {
    let done = 0;
    for (const move of moves) {
      const started = Date.now();
      const source = client(move.from);
      const target = client(move.to);
      const to = byId.get(move.to) as ClusterMaster;
      let keys = 0;
      try {
        await target.call('CLUSTER', 'SETSLOT', move.slot, 'IMPORTING', move.from);
        await source.call('CLUSTER', 'SETSLOT', move.slot, 'MIGRATING', move.to);
        for (;;) {
          const batch = (await source.call(
            'CLUSTER',
            'GETKEYSINSLOT',
            move.slot,
            MIGRATE_BATCH,
          )) as string[];
          if (batch.length === 0) break;
          // MIGRATE answers NOKEY when every key expired meanwhile: the slot is then empty too.
          await source.call(
            'MIGRATE',
            to.host,
            to.port,
            '',
            0,
            MIGRATE_TIMEOUT_MS,
            ...auth,
            'KEYS',
            ...batch,
          );
          keys += batch.length;
        }
        // Target first: once it owns the slot it stops answering ASK-only; then the source, whose
        // MOVED now points at the target, then every other master (as redis-cli does).
        await target.call('CLUSTER', 'SETSLOT', move.slot, 'NODE', move.to);
        await source.call('CLUSTER', 'SETSLOT', move.slot, 'NODE', move.to);
        for (const m of masters) {
          if (m.id === move.from || m.id === move.to) continue;
          await client(m.id).call('CLUSTER', 'SETSLOT', move.slot, 'NODE', move.to);
        }
      } catch (err) {
        throw new StoreUnavailableError(
          `move of slot ${move.slot} from ${byId.get(move.from)?.address ?? move.from} to ` +
            `${to.address} (${keys} keys moved; if the slot stays open, redis-cli --cluster fix closes it)`,
          err,
        );
      }
      onProgress({ move, keys, ms: Date.now() - started, done: ++done, total: moves.length });
    }
  } finally {
    for (const c of clients.values()) c.disconnect();
  }
}
