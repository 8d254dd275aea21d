/**
 * CRC-32 (IEEE) and CRC-32C (Castagnoli), table driven.
 * @module
 */

function table(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
}

const IEEE = table(0xedb88320);
const CASTAGNOLI = table(0x82f63b78);

function run(t: Uint32Array, data: Uint8Array, seed: number): number {
  let c = ~seed;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 IEEE, as Go's `crc32.ChecksumIEEE`. */
export function crc32(data: Uint8Array, seed = 0): number {
  return run(IEEE, data, seed);
}

/** CRC-32C (Castagnoli), as used by snappy framing. */
export function crc32c(data: Uint8Array, seed = 0): number {
  return run(CASTAGNOLI, data, seed);
}
