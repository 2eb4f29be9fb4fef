import type { RedisClient } from '../store';
import type { StoreDetails } from './store-health';

/**
 * The deeper health figures of a Redis store, for the metrics (holdfast_store_cluster_state_ok,
 * _masters, _replicas_online, _failovers_total): asked every few seconds on the engine's own
 * client, never on the request path.
 */
export class RedisTopology {
  private masters = new Set<string>();
  private failovers = 0;

  constructor(private readonly client: () => RedisClient) {}

  async details(): Promise<StoreDetails> {
    const client = this.client();
    const masters = 'nodes' in client ? client.nodes('master') : [client];
    let clusterOk = true;
    if ('nodes' in client && masters[0]) {
      const info = String(await masters[0].call('CLUSTER', 'INFO'));
      clusterOk = /cluster_state:ok/.test(info);
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
    return { clusterOk, masters: masters.length, replicasOnline, failovers: this.failovers };
  }
}

/** Where a client is connected (sentinel mode resolves the master at connect time). */
function addressOf(node: { options: { host?: string; port?: number } }): string {
  const stream = (node as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
  return stream?.remoteAddress
    ? `${stream.remoteAddress}:${stream.remotePort}`
    : `${node.options.host}:${node.options.port}`;
}
