/** Harness addresses in the form settings and env take them; no app or plugin imports here. */
import type { Endpoint } from '../harness';

/** A cluster's seed addresses as `store.redis.nodes` takes them (`host:port`). */
export function seedList(cluster: { readonly seeds: readonly Endpoint[] }): string[] {
  return cluster.seeds.map((s) => `${s.host}:${s.port}`);
}
