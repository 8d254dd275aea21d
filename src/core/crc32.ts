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

/** True where an Int32Array reads bytes as little-endian words (every platform Deno ships for). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Word views of the buffers checksummed, one per buffer: data paths checksum many pieces of a
 * few reused buffers (a KCP session's datagram and parity buffers), and a view per call was an
 * allocation per datagram.
 */
const views = new WeakMap<ArrayBufferLike, Int32Array<ArrayBufferLike>>();

function wordsOf(buffer: ArrayBufferLike): Int32Array<ArrayBufferLike> {
  let w = views.get(buffer);
  if (w === undefined || w.length !== buffer.byteLength >>> 2) {
    w = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    views.set(buffer, w);
  }
  return w;
}

/** The CRC (table set `t`) of `data[start..end)`, continuing `seed`. */
function run(t: Uint32Array, data: Uint8Array, seed: number, start = 0, end = data.length): number {
  let c = ~seed;
  let i = start;
  const n = end;
  // Bytes one at a time up to a 4-byte boundary, then eight bytes per step read as two words
  // (a third faster than assembling them from bytes: 1.3 against 1.7 µs for 1350 bytes).
  const head = Math.min(n, i + ((4 - ((data.byteOffset + i) & 3)) & 3));
  for (; i < head; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  if (LITTLE_ENDIAN && n - i >= 8) {
    const w = wordsOf(data.buffer);
    const first = (data.byteOffset + i) >>> 2, stop = first + (((n - i) >>> 3) << 1);
    for (let j = first; j < stop; j += 2) {
      const a = c ^ w[j], b = w[j + 1];
      c = t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^
        t[1024 + (a >>> 24)] ^ t[768 + (b & 0xff)] ^ t[512 + ((b >>> 8) & 0xff)] ^
        t[256 + ((b >>> 16) & 0xff)] ^ t[b >>> 24];
    }
    i += (stop - first) << 2;
  }
  const end8 = n - ((n - i) & 7);
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

/** CRC-32 IEEE of `data[start..end)` (no view to make: a hot path's allocation saved). */
export function crc32Range(data: Uint8Array, start: number, end: number): number {
  if (start < 0 || end > data.length || start > end) throw new RangeError(`crc32Range ${start}..${end}`);
  return run(IEEE, data, 0, start, end);
}

/** CRC-32C (Castagnoli), as used by snappy framing. */
export function crc32c(data: Uint8Array, seed = 0): number {
  return run(CASTAGNOLI, data, seed);
}
