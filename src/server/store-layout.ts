import { upgradeFormat, type FormatUpgrade } from '../store/redis/format-upgrade';
import { reshard, type ReshardProgress } from '../store/redis/resharder';
import type { SplitState } from '../store/redis/split-state';
import type { Services } from './services';

export type { FormatUpgrade, ReshardProgress, SplitState };

/** `holdfast store reshard`'s run over the services' Redis store (ADR 260). */
export function reshardStore(
  services: Services,
  shards: number,
  onProgress: (p: ReshardProgress) => void,
): Promise<SplitState> {
  const store = services.store;
  if (store.kind !== 'redis') throw new Error('store reshard: no Redis store');
  return reshard(store, shards, { onProgress });
}

/** `holdfast store upgrade-format` over the services' Redis store (ADR 265). */
export function upgradeStoreFormat(services: Services): Promise<FormatUpgrade> {
  const store = services.store;
  if (store.kind !== 'redis') throw new Error('store upgrade-format: no Redis store');
  return upgradeFormat(store.connection, store.keys);
}
