/**
 * CRC-32 (IEEE) and CRC-32C (Castagnoli), table driven, eight bytes per step
 * ("slicing-by-8": about four times faster than a byte at a time, which matters on data
 * paths such as snappy framing where every byte is checked).
 * @module
 */

/** Eight 256-entry tables: table k gives the CRC of a byte followed by k zero bytes. */
function tables(poly: number): Uint32Array {
  const t = new Uint32Array(256 * 8);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + i] = c >>> 0;
    }
  }
  return t;
}

const IEEE = tables(0xedb88320);
const CASTAGNOLI = tables(0x82f63b78);

function run(t: Uint32Array, data: Uint8Array, seed: number): number {
  let c = ~seed;
  let i = 0;
  const n = data.length;
  const end8 = n - (n & 7);
  for (; i < end8; i += 8) {
    c ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    c = t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)] ^ t[1280 + ((c >>> 16) & 0xff)] ^
      t[1024 + (c >>> 24)] ^ t[768 + data[i + 4]] ^ t[512 + data[i + 5]] ^ t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
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
