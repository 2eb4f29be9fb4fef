import { balanceReport, planBalance, type MasterSlots } from '../../../../src/store/redis/balance';
import { KeyLayout } from '../../../../src/store/keys';
import { shardSlots, SLOT_COUNT } from '../../../../src/store/redis/hash-slot';

/** Masters serving equal contiguous slot ranges, as redis-cli --cluster create makes them. */
function evenMasters(n: number): MasterSlots[] {
  return Array.from({ length: n }, (_, i) => {
    const from = Math.floor((i * SLOT_COUNT) / n);
    const to = Math.floor(((i + 1) * SLOT_COUNT) / n) - 1;
    return {
      id: `m${String(i).padStart(2, '0')}`,
      address: `10.0.0.${i}:6379`,
      ranges: [[from, to]],
    };
  });
}

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Applies moves to a slot map: each slot becomes a range of its own on its new master. */
function applyMoves(
  masters: MasterSlots[],
  moves: readonly { slot: number; to: string }[],
): MasterSlots[] {
  const moved = new Map(moves.map((m) => [m.slot, m.to]));
  return masters.map((m) => {
    const ranges: Array<[number, number]> = [];
    for (let s = 0; s < SLOT_COUNT; s++) {
      const owner =
        moved.get(s) ?? masters.find((o) => o.ranges.some(([a, b]) => s >= a && s <= b))?.id;
      if (owner === m.id) ranges.push([s, s]);
    }
    return { ...m, ranges };
  });
}

/** Every way to give r of n masters the extra shard: the fewest moves any plan can make (unit slots). */
function leastMoves(counts: number[], total: number): number {
  const n = counts.length;
  const q = Math.floor(total / n);
  const r = total % n;
  let best = Infinity;
  for (let mask = 0; mask < 1 << n; mask++) {
    let bits = 0;
    for (let i = 0; i < n; i++) if (mask & (1 << i)) bits++;
    if (bits !== r) continue;
    let moves = 0;
    for (let i = 0; i < n; i++) moves += Math.max(0, counts[i] - (mask & (1 << i) ? q + 1 : q));
    best = Math.min(best, moves);
  }
  return best;
}

describe('balance report', () => {
  it('counts shards per master and the busiest share', () => {
    const masters = evenMasters(2);
    // Shards in slots 1, 2, 3 (first master) and 9000 (second).
    const report = balanceReport([1, 2, 3, 9000], masters);
    expect(report.masters.map((m) => [m.id, m.slots, m.shards])).toEqual([
      ['m00', 8192, 3],
      ['m01', 8192, 1],
    ]);
    expect(report.mean).toBe(2);
    expect(report.busiest.id).toBe('m00');
    expect(report.ratio).toBe(1.5);
    expect(report.balanced).toBe(false);
    expect(balanceReport([1, 2, 9000, 9001], masters).balanced).toBe(true);
  });

  it('reproduces the imbalance issue 15 computed for 256 shards over 12 masters', () => {
    const report = balanceReport(shardSlots(new KeyLayout('hf', 256)), evenMasters(12));
    expect(report.masters.reduce((s, m) => s + m.shards, 0)).toBe(256);
    expect(report.ratio).toBeCloseTo(1.31, 2);
  });

  it('counts an empty master (a new node with no slots) as one with no shards', () => {
    const masters = [...evenMasters(2), { id: 'new', address: 'x:1', ranges: [] }];
    const report = balanceReport([1, 9000, 9001], masters);
    expect(report.masters.find((m) => m.id === 'new')).toMatchObject({ slots: 0, shards: 0 });
    expect(report.mean).toBe(1);
  });
});

describe('balance plan', () => {
  it('balances random clusters to ±1 with the fewest slot moves (one shard per slot)', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rnd = random(seed);
      const n = 2 + Math.floor(rnd() * 7);
      const total = n + Math.floor(rnd() * 300);
      // Distinct slots, spread unevenly: some masters get none.
      const slots = new Set<number>();
      while (slots.size < total) slots.add(Math.floor(rnd() ** 2 * SLOT_COUNT));
      const shardToSlot = [...slots];
      const masters = evenMasters(n);
      const before = balanceReport(shardToSlot, masters);
      const plan = planBalance(shardToSlot, masters);
      const after = balanceReport(shardToSlot, applyMoves(masters, plan.moves));
      expect(after.balanced).toBe(true);
      expect(plan.balanced).toBe(true);
      expect(Object.fromEntries(plan.after)).toEqual(
        Object.fromEntries(after.masters.map((m) => [m.id, m.shards])),
      );
      expect(plan.moves).toHaveLength(
        leastMoves(
          before.masters.map((m) => m.shards),
          total,
        ),
      );
      for (const move of plan.moves) {
        const from = masters.find((m) => m.id === move.from);
        expect(from?.ranges.some(([a, b]) => move.slot >= a && move.slot <= b)).toBe(true);
        expect(move.from).not.toBe(move.to);
      }
      expect(new Set(plan.moves.map((m) => m.slot)).size).toBe(plan.moves.length);
    }
  });

  it('moves nothing when the shards are already within one of each other', () => {
    expect(planBalance([1, 2, 9000], evenMasters(2)).moves).toEqual([]);
  });

  it('moves a slot holding two shards in one move rather than two single ones', () => {
    // m00: slot 5 holds two shards, slots 6 and 7 one each (4); m01: none. Target 2 + 2.
    const plan = planBalance([5, 5, 6, 7], evenMasters(2));
    expect(plan.moves).toEqual([{ slot: 5, shards: 2, from: 'm00', to: 'm01' }]);
    expect(plan.balanced).toBe(true);
  });

  it('gives the extra shard to a master that already has it, so nothing moves for it', () => {
    // 7 shards over 3 masters: targets 3, 2, 2. m00 has 3, m01 has 3, m02 has 1: one move.
    const masters = evenMasters(3);
    const plan = planBalance([1, 2, 3, 6000, 6001, 6002, 12000], masters);
    expect(plan.moves).toHaveLength(1);
    expect(plan.moves[0].to).toBe('m02');
  });

  it('fills an empty new master', () => {
    const masters = [...evenMasters(3), { id: 'new', address: 'x:1', ranges: [] }];
    const shardToSlot = shardSlots(new KeyLayout('hf', 256));
    const plan = planBalance(shardToSlot, masters);
    expect(plan.after.get('new')).toBe(64);
    expect(plan.moves.filter((m) => m.to === 'new').reduce((s, m) => s + m.shards, 0)).toBe(64);
    expect(balanceReport(shardToSlot, applyMoves(masters, plan.moves)).balanced).toBe(true);
  });

  it('says when slots holding several shards cannot be split to ±1', () => {
    // Two shards in one slot, nothing else: 2 + 0 cannot become 1 + 1 by moving slots.
    const plan = planBalance([5, 5], evenMasters(2));
    expect(plan.moves).toEqual([]);
    expect(plan.balanced).toBe(false);
  });
});
