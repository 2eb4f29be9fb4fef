import { KeyLayout, shardUnder } from '../../../src/store/keys';

describe('KeyLayout after the shard count grew (ADR 260)', () => {
  const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);

  it('owns: the user’s shard now, under the count it grew from, or under the count it grows to', () => {
    const layout = new KeyLayout('hf', 16);
    for (const u of users) {
      const now = shardUnder(u, 16);
      const old = shardUnder(u, 4);
      const wide = shardUnder(u, 64);
      expect(layout.owns(now, u)).toBe(true);
      expect(layout.owns(old, u)).toBe(old === now);
      layout.grownFrom = 4;
      expect(layout.owns(old, u)).toBe(true);
      expect(layout.owns((old + 1) % 4, u)).toBe((old + 1) % 4 === now);
      expect(layout.owns(wide, u)).toBe(wide === now);
      layout.grownTo = 64;
      expect(layout.owns(wide, u)).toBe(true);
      const neighbour = (wide + 16) % 64;
      expect(layout.owns(neighbour, u)).toBe(neighbour === now || neighbour === old);
      layout.grownFrom = undefined;
      layout.grownTo = undefined;
    }
  });

  it('accepts cookies naming shards of the grown count', () => {
    const layout = new KeyLayout('hf', 16);
    expect(layout.tokenShards).toBe(16);
    layout.grownTo = 64;
    expect(layout.tokenShards).toBe(64);
    expect(layout.reshard(3)).toBe('{hf:3}:reshard');
  });
});
