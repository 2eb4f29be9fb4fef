/**
 * Balanced data across a Redis Cluster (issue 15 item 3, ADR 185). Every key of a shard lives in
 * one hash slot (keys.ts), so a master's share of the data is the number of shards whose slot
 * it serves, not the number of slots it serves: balancing slot counts (redis-cli rebalance)
 * leaves the shards uneven. Pure functions over gathered facts: the CLI, preflight and the
 * health loop each gather the slot map their own way and call these.
 */

/**
 * The busiest master's shards over the mean above which preflight and the store health loop warn:
 * at 1.2× one master holds a fifth more sessions, memory and traffic than an even share.
 */
export const BALANCE_WARN_RATIO = 1.2;

/** A master as the slot map shows it. */
export interface MasterSlots {
  readonly id: string;
  /** host:port, for the report. */
  readonly address: string;
  /** Inclusive slot ranges it serves. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
}

export interface MasterShare {
  readonly id: string;
  readonly address: string;
  readonly slots: number;
  readonly shards: number;
}

export interface BalanceReport {
  readonly shards: number;
  readonly masters: readonly MasterShare[];
  /** Shards per master on average. */
  readonly mean: number;
  /** The master with the most shards (the first such in the list). */
  readonly busiest: MasterShare;
  /** busiest.shards / mean: 1 is perfect; the warning threshold is BALANCE_WARN_RATIO. */
  readonly ratio: number;
  /** Every master within one shard of every other. */
  readonly balanced: boolean;
}

/** Shard count per slot, for the slots that hold shards (several shards may share a slot). */
export function shardsPerSlot(shardSlots: readonly number[]): Map<number, number> {
  const bySlot = new Map<number, number>();
  for (const slot of shardSlots) bySlot.set(slot, (bySlot.get(slot) ?? 0) + 1);
  return bySlot;
}

function owns(ranges: MasterSlots['ranges'], slot: number): boolean {
  return ranges.some(([from, to]) => slot >= from && slot <= to);
}

/** Shards per master and the busiest master's share of them. */
export function balanceReport(
  shardSlots: readonly number[],
  masters: readonly MasterSlots[],
): BalanceReport {
  if (masters.length === 0) throw new Error('balance: the slot map names no master');
  const bySlot = shardsPerSlot(shardSlots);
  const shares = masters.map((m) => {
    let shards = 0;
    for (const [slot, n] of bySlot) if (owns(m.ranges, slot)) shards += n;
    const slots = m.ranges.reduce((sum, [from, to]) => sum + to - from + 1, 0);
    return { id: m.id, address: m.address, slots, shards };
  });
  const mean = shardSlots.length / masters.length;
  const busiest = shares.reduce((a, b) => (b.shards > a.shards ? b : a));
  const least = Math.min(...shares.map((s) => s.shards));
  return {
    shards: shardSlots.length,
    masters: shares,
    mean,
    busiest,
    ratio: mean === 0 ? 1 : busiest.shards / mean,
    balanced: busiest.shards - least <= 1,
  };
}

export interface SlotMove {
  readonly slot: number;
  /** Shards the slot holds. */
  readonly shards: number;
  readonly from: string;
  readonly to: string;
}

export interface BalancePlan {
  readonly moves: readonly SlotMove[];
  /** Shards per master id once the moves are done. */
  readonly after: ReadonlyMap<string, number>;
  /** Whether the moves reach ±1 (false only when slots holding several shards cannot be split). */
  readonly balanced: boolean;
}

/**
 * The slot moves that leave every master with floor(S/N) or ceil(S/N) shards, moving as few
 * slots as it can (ADR 185):
 * 1. Targets: the S mod N masters holding the most shards now keep ceil(S/N), the rest
 *    floor(S/N). Giving the extra shard to those that already have the most minimises the total
 *    surplus, which with one shard per slot is exactly the number of slots that must move.
 * 2. Donors (above target), largest surplus first, give slots, heaviest first, each one whose
 *    shards fit both the donor's remaining surplus and a receiver's remaining deficit (the
 *    receiver with the largest deficit takes it). A slot holding k shards settles k shards in
 *    one move, so heaviest first moves fewer slots. Ties go to the lowest slot number, so the
 *    plan is the same on every run.
 * Only slots holding shards are considered; the others carry no session data.
 */
export function planBalance(
  shardSlots: readonly number[],
  masters: readonly MasterSlots[],
): BalancePlan {
  const report = balanceReport(shardSlots, masters);
  const bySlot = shardsPerSlot(shardSlots);
  const n = masters.length;
  const q = Math.floor(report.shards / n);
  const r = report.shards % n;
  const order = [...report.masters].sort((a, b) => b.shards - a.shards || a.id.localeCompare(b.id));
  const target = new Map(order.map((m, i) => [m.id, i < r ? q + 1 : q]));
  const count = new Map(report.masters.map((m) => [m.id, m.shards]));
  const slotsOf = new Map(
    masters.map((m) => [
      m.id,
      [...bySlot.entries()]
        .filter(([slot]) => owns(m.ranges, slot))
        .sort(([sa, wa], [sb, wb]) => wb - wa || sa - sb),
    ]),
  );
  const moves: SlotMove[] = [];
  const surplus = (id: string) => (count.get(id) ?? 0) - (target.get(id) ?? 0);
  const donors = order
    .filter((m) => surplus(m.id) > 0)
    .sort((a, b) => surplus(b.id) - surplus(a.id));
  for (const donor of donors) {
    const candidates = slotsOf.get(donor.id) ?? [];
    for (let i = 0; i < candidates.length && surplus(donor.id) > 0;) {
      const [slot, weight] = candidates[i];
      const receiver = order
        .filter((m) => -surplus(m.id) >= weight)
        .sort((a, b) => surplus(a.id) - surplus(b.id))[0];
      if (weight > surplus(donor.id) || !receiver) {
        i++;
        continue;
      }
      moves.push({ slot, shards: weight, from: donor.id, to: receiver.id });
      count.set(donor.id, (count.get(donor.id) ?? 0) - weight);
      count.set(receiver.id, (count.get(receiver.id) ?? 0) + weight);
      candidates.splice(i, 1);
    }
  }
  const finals = [...count.values()];
  return {
    moves,
    after: count,
    balanced: Math.max(...finals) - Math.min(...finals) <= 1,
  };
}
