import { KeyLayout } from '../../../../src/store/keys';
import { crc16, hashSlot, shardSlots, SLOT_COUNT } from '../../../../src/store/redis/hash-slot';

describe('Redis Cluster hash slots', () => {
  it('computes CRC16-XMODEM as the cluster spec gives it', () => {
    // The spec's check value: CRC16 of "123456789" is 0x31C3.
    expect(crc16('123456789')).toBe(0x31c3);
    expect(crc16('')).toBe(0);
    expect(crc16(Buffer.from([0xff]))).toBe(0x1ef0);
  });

  it('maps keys to the slots Redis gives them', () => {
    expect(hashSlot('123456789')).toBe(12739);
    // CLUSTER KEYSLOT answers from redis.io and the spec.
    expect(hashSlot('foo')).toBe(12182);
    expect(hashSlot('somekey')).toBe(11058);
    expect(hashSlot('hello')).toBe(866);
  });

  it('hashes only a non-empty hash tag, as keyHashSlot does', () => {
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('user1000'));
    expect(hashSlot('{user1000}.followers')).toBe(hashSlot('user1000'));
    // An empty tag: the whole key counts.
    expect(hashSlot('foo{}{bar}')).toBe(crc16('foo{}{bar}') % SLOT_COUNT);
    // The first { and the first } after it.
    expect(hashSlot('foo{{bar}}zap')).toBe(hashSlot('{bar'));
    expect(hashSlot('foo{bar}{zap}')).toBe(hashSlot('bar'));
    // No closing brace: the whole key.
    expect(hashSlot('foo{bar')).toBe(crc16('foo{bar') % SLOT_COUNT);
    // UTF-8 bytes, as Redis sees them.
    expect(hashSlot('é')).toBe(crc16(Buffer.from([0xc3, 0xa9])) % SLOT_COUNT);
  });

  it('gives every shard of a layout the slot of its hash tag', () => {
    const keys = new KeyLayout('hf', 256);
    const slots = shardSlots(keys);
    expect(slots).toHaveLength(256);
    expect(slots[17]).toBe(hashSlot('hf:17'));
    expect(slots[17]).toBe(hashSlot(keys.session(17, 'abc')));
    expect(slots[17]).toBe(hashSlot(keys.live(17, 'abc')));
    for (const s of slots) expect(s).toBeGreaterThanOrEqual(0);
    for (const s of slots) expect(s).toBeLessThan(SLOT_COUNT);
  });

  it('after the count grew, the shards the data lives under (ADR 260)', () => {
    const keys = new KeyLayout('hf', 256);
    keys.grownTo = 1024;
    const slots = shardSlots(keys);
    expect(slots).toHaveLength(1024);
    expect(slots[1000]).toBe(hashSlot('hf:1000'));
  });
});
