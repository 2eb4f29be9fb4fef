import type { RedisClient } from '../store';
import type { KeyLayout } from '../store/keys';
import { balanceReport } from '../store/redis/balance';
import { parseClusterNodes } from '../store/redis/cluster-balance';
import { shardSlots } from '../store/redis/hash-slot';
import type { StoreDetails } from './store-health';

/**
 * The deeper health figures of a Redis store, for the metrics (holdfast_store_cluster_state_ok,
 * _masters, _replicas_online, _failovers_total): asked every few seconds on the engine's own
 * client, never on the request path.
 */
export class RedisTopology {
  private masters = new Set<string>();
  private failovers = 0;

  private slots: number[] | undefined;

  /** `keys`: the layout, for the shard balance (busiest master / mean) of a cluster. */
  constructor(
    private readonly client: () => RedisClient,
    private readonly keys?: KeyLayout,
  ) {}

  async details(): Promise<StoreDetails> {
    const client = this.client();
    const masters = 'nodes' in client ? client.nodes('master') : [client];
    let clusterOk = true;
    let balance: Pick<StoreDetails, 'shardRatio' | 'busiestMaster'> = {};
    if ('nodes' in client && masters[0]) {
      const info = String(await masters[0].call('CLUSTER', 'INFO'));
      clusterOk = /cluster_state:ok/.test(info);
      if (this.keys) {
        const view = parseClusterNodes(String(await masters[0].call('CLUSTER', 'NODES')));
        // Computed again when the count grows (ADR 260: the engine learns it from meta).
        if (this.slots?.length !== this.keys.tokenShards) this.slots = shardSlots(this.keys);
        const report = view.length > 0 ? balanceReport(this.slots, view) : undefined;
        if (report) balance = { shardRatio: report.ratio, busiestMaster: report.busiest.address };
      }
    }
    let replicasOnline = 0;
    const addresses = new Set<string>();
    for (const m of masters) {
      const info = String(await m.call('INFO', 'replication'));
      replicasOnline += (info.match(/^slave\d+:.*state=online/gm) ?? []).length;
      addresses.add(addressOf(m));
    }
    // A master address not seen before, once the set is known, is a replica that took over.
    if (this.masters.size > 0) {
      for (const a of addresses) if (!this.masters.has(a)) this.failovers++;
    }
    this.masters = addresses;
    return {
      clusterOk,
      masters: masters.length,
      replicasOnline,
      failovers: this.failovers,
      ...balance,
    };
  }
}

/** Where a client is connected (sentinel mode resolves the master at connect time). */
function addressOf(node: { options: { host?: string; port?: number } }): string {
  const stream = (node as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
  return stream?.remoteAddress
    ? `${stream.remoteAddress}:${stream.remotePort}`
    : `${node.options.host}:${node.options.port}`;
}
