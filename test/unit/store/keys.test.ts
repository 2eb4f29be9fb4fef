import { createHash } from 'node:crypto';
import { KeyLayout, RECENT_USERS, shardUnder } from '../../../src/store/keys';

describe('a user’s shard', () => {
  /** The placement every stored session relies on, computed independently: SHA-256, first 4 bytes. */
  const placed = (userId: string, shards: number) =>
    createHash('sha256').update(userId).digest().readUInt32BE(0) % shards;

  it('is the first 32 bits of SHA-256(user id) mod the shard count', () => {
    for (const u of ['u', 'user-1', 'Zz9_-x'.repeat(4), 'é']) {
      for (const shards of [1, 16, 256, 1024])
        expect(shardUnder(u, shards)).toBe(placed(u, shards));
    }
  });

  it('shardOf remembers at most RECENT_USERS users and answers as shardUnder, twice', () => {
    const layout = new KeyLayout('hf', 256);
    const remembered = () =>
      (layout as unknown as { recentShards: Map<string, number> }).recentShards;
    const users = Array.from({ length: 2 * RECENT_USERS + 5 }, (_, i) => `user-${i}`);
    // The second pass answers from what the first one left.
    for (const u of [...users, ...users]) {
      expect(layout.shardOf(u)).toBe(placed(u, 256));
      expect(remembered().size).toBeLessThanOrEqual(RECENT_USERS);
    }
    expect(remembered().get(users[users.length - 1])).toBe(placed(users[users.length - 1], 256));
  });
});

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
