/** Redis Cluster hash slots computed locally (CRC16-XMODEM mod 16384, with hash tags). */

export const SLOT_COUNT = 16384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/** The slot of a key, as CLUSTER KEYSLOT computes it (only the first non-empty {tag} counts). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key, 'utf8')) % SLOT_COUNT;
}

/** One hash tag per slot: `{tag}` + anything lands in slot i for tags[i]. */
export function tagsForEverySlot(): string[] {
  const tags = new Array<string>(SLOT_COUNT);
  let missing = SLOT_COUNT;
  for (let i = 0; missing > 0; i++) {
    const tag = i.toString(36);
    const slot = keySlot(tag);
    if (tags[slot] === undefined) {
      tags[slot] = tag;
      missing--;
    }
  }
  return tags;
}
