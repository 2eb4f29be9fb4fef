/**
 * Redis Cluster's key → hash slot function (cluster spec: CRC16-CCITT/XMODEM, polynomial 0x1021,
 * initial 0, of the key's hash tag when it has a non-empty one, mod 16384). Computed here so the
 * balance report can say which master holds which shard without asking Redis per shard.
 */
import type { KeyLayout } from '../keys';

export const SLOT_COUNT = 16384;

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++)
    crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

/** CRC16-XMODEM of the bytes (a string is taken as UTF-8, as Redis sees it on the wire). */
export function crc16(data: string | Uint8Array): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/**
 * The slot of a key: only the part between the first `{` and the next `}` counts when that part
 * is not empty (`{}x` hashes whole), as in the spec's keyHashSlot.
 */
export function hashSlot(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % SLOT_COUNT;
  }
  return crc16(bytes) % SLOT_COUNT;
}

/**
 * The slot of every shard of a layout (index = shard): all of a shard's keys share its tag. After
 * the count grew (ADR 260), the grown count's shards: where the data lives, whatever the node's
 * own setting still says.
 */
export function shardSlots(keys: KeyLayout): number[] {
  return Array.from({ length: keys.tokenShards }, (_, shard) => hashSlot(keys.tag(shard)));
}
