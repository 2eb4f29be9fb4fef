import { KeyLayout } from '../store/keys';
import {
  BALANCE_WARN_RATIO,
  balanceReport,
  planBalance,
  type BalancePlan,
  type BalanceReport,
} from '../store/redis/balance';
import {
  applyMoves,
  readMasters,
  type ClusterMaster,
  type MoveProgress,
} from '../store/redis/cluster-balance';
import { shardSlots } from '../store/redis/hash-slot';
import type { Services } from './services';

export { BALANCE_WARN_RATIO };
export type { BalancePlan, BalanceReport, ClusterMaster, MoveProgress };

/** `holdfast store balance`'s view of the store: the slot map now, its plan, and the moves. */
export interface StoreBalance {
  readonly masters: readonly ClusterMaster[];
  readonly report: BalanceReport;
  plan(): BalancePlan;
  /** Performs the plan's moves, then reports the slot map afresh (ADR 185). */
  apply(plan: BalancePlan, onProgress: (p: MoveProgress) => void): Promise<BalanceReport>;
}

/** Reads the Redis store's slot map with the layout its data was written with (`{prefix}:meta`). */
export async function readStoreBalance(services: Services): Promise<StoreBalance> {
  const store = services.store;
  if (store.kind !== 'redis') throw new Error('store balance: no Redis store');
  const meta = await store.meta();
  const slots = shardSlots(new KeyLayout(store.keys.prefix, meta.shards));
  const masters = await readMasters(store.connection.writes);
  return {
    masters,
    report: balanceReport(slots, masters),
    plan: () => planBalance(slots, masters),
    async apply(plan, onProgress) {
      await applyMoves(store.settings, masters, plan.moves, onProgress);
      return balanceReport(slots, await readMasters(store.connection.writes));
    },
  };
}
