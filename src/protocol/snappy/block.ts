/**
 * Snappy block format: a pure compress/decompress pair.
 *
 * A block is the uncompressed length as a varint, then elements: literals (tag 00) and
 * back-references (copy with 1-, 2- or 4-byte offset; tags 01, 10, 11). The compressor is a
 * single-pass LZ77 with a hash table of 4-byte sequences that looks further apart the longer
 * it finds nothing, so incompressible data costs little.
 * @module
 */

/** A block is malformed (or declares more than the caller allows). */
export class SnappyCorruptError extends Error {
  constructor(what: string) {
    super(`snappy: corrupt input: ${what}`);
    this.name = "SnappyCorruptError";
  }
}

/** Offsets in one compression pass stay below 64 KiB (the framing format's chunk size too). */
const PASS = 65536;
/** Shorter inputs are emitted as one literal. */
const MIN_MATCHABLE = 17;
/** Matching stops this far from the end (4-byte loads stay in bounds). */
const INPUT_MARGIN = 15;
const MAX_TABLE_BITS = 14;
const table = new Uint16Array(1 << MAX_TABLE_BITS);

/** The most bytes {@link compress} can produce for `n` input bytes. */
export function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

/**
 * Compresses `src` into `dst` (default: a fresh buffer of {@link maxCompressedLength})
 * and returns the view of `dst` that holds the block.
 */
export function compress(src: Uint8Array, dst?: Uint8Array): Uint8Array {
  dst ??= new Uint8Array(maxCompressedLength(src.length));
  let d = putVarint(dst, 0, src.length);
  for (let p = 0; p < src.length; p += PASS) {
    d = compressPass(dst, d, src.subarray(p, Math.min(src.length, p + PASS)));
  }
  return dst.subarray(0, d);
}

function putVarint(dst: Uint8Array, d: number, v: number): number {
  while (v >= 0x80) {
    dst[d++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  dst[d++] = v;
  return d;
}

function load32(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

function emitLiteral(dst: Uint8Array, d: number, lit: Uint8Array): number {
  const n = lit.length - 1;
  if (n < 60) {
    dst[d++] = n << 2;
  } else if (n < 0x100) {
    dst[d++] = 60 << 2;
    dst[d++] = n;
  } else if (n < 0x10000) {
    dst[d++] = 61 << 2;
    dst[d++] = n & 0xff;
    dst[d++] = n >>> 8;
  } else if (n < 0x1000000) {
    dst[d++] = 62 << 2;
    dst[d++] = n & 0xff;
    dst[d++] = (n >>> 8) & 0xff;
    dst[d++] = n >>> 16;
  } else {
    dst[d++] = 63 << 2;
    dst[d++] = n & 0xff;
    dst[d++] = (n >>> 8) & 0xff;
    dst[d++] = (n >>> 16) & 0xff;
    dst[d++] = n >>> 24;
  }
  dst.set(lit, d);
  return d + lit.length;
}

function emitCopy2(dst: Uint8Array, d: number, offset: number, length: number): number {
  dst[d] = ((length - 1) << 2) | 2;
  dst[d + 1] = offset & 0xff;
  dst[d + 2] = offset >>> 8;
  return d + 3;
}

function emitCopy(dst: Uint8Array, d: number, offset: number, length: number): number {
  // Long matches go out as 64-byte copies, leaving at least 4 bytes for the last one.
  while (length >= 68) {
    d = emitCopy2(dst, d, offset, 64);
    length -= 64;
  }
  if (length > 64) {
    d = emitCopy2(dst, d, offset, 60);
    length -= 60;
  }
  if (length >= 12 || offset >= 2048) return emitCopy2(dst, d, offset, length);
  dst[d] = ((offset >>> 8) << 5) | ((length - 4) << 2) | 1;
  dst[d + 1] = offset & 0xff;
  return d + 2;
}

/** Compresses one pass (at most 64 KiB) of input; offsets are relative to its start. */
function compressPass(dst: Uint8Array, d: number, src: Uint8Array): number {
  const len = src.length;
  if (len < MIN_MATCHABLE) return len ? emitLiteral(dst, d, src) : d;
  let bits = 8;
  while (bits < MAX_TABLE_BITS && (1 << bits) < len) bits++;
  const shift = 32 - bits;
  table.fill(0, 0, 1 << bits);
  const hash = (x: number) => Math.imul(x, 0x1e35a7bd) >>> shift;
  const sLimit = len - INPUT_MARGIN;
  let nextEmit = 0;
  let s = 1;
  let nextHash = hash(load32(src, s));
  outer: for (;;) {
    // Look for a 4-byte match, stepping further the longer none turns up.
    let skip = 32;
    let nextS = s;
    let candidate = 0;
    do {
      s = nextS;
      const step = skip >> 5;
      nextS = s + step;
      skip += step;
      if (nextS > sLimit) break outer;
      candidate = table[nextHash];
      table[nextHash] = s;
      nextHash = hash(load32(src, nextS));
    } while (load32(src, s) !== load32(src, candidate));
    d = emitLiteral(dst, d, src.subarray(nextEmit, s));
    // Emit copies while each match is immediately followed by another.
    for (;;) {
      const base = s;
      let i = candidate + 4;
      s += 4;
      while (s < len && src[i] === src[s]) {
        i++;
        s++;
      }
      d = emitCopy(dst, d, base - candidate, s - base);
      nextEmit = s;
      if (s >= sLimit) break outer;
      table[hash(load32(src, s - 1))] = s - 1;
      const h = hash(load32(src, s));
      candidate = table[h];
      table[h] = s;
      if (load32(src, s) !== load32(src, candidate)) {
        nextHash = hash(load32(src, s + 1));
        s++;
        break;
      }
    }
  }
  if (nextEmit < len) d = emitLiteral(dst, d, src.subarray(nextEmit));
  return d;
}

/**
 * The uncompressed length a block declares, and where its elements start. Throws
 * {@link SnappyCorruptError} on a bad varint.
 */
export function decodedLength(src: Uint8Array): { length: number; headerLength: number } {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 5 && i < src.length; i++) {
    const b = src[i];
    v += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (v > 0xffffffff) break;
      return { length: v, headerLength: i + 1 };
    }
    mul *= 128;
  }
  throw new SnappyCorruptError("bad length varint");
}

/**
 * Decompresses one block, into the buffer `into(length)` returns when given (at least
 * `length` bytes; the result is then a view of it), else into a fresh buffer. `maxLength`
 * bounds the declared size (the framing format allows 65536); larger declarations are rejected
 * before anything is allocated.
 */
export function decompress(
  src: Uint8Array,
  maxLength = 0xffffffff,
  into?: (length: number) => Uint8Array,
): Uint8Array {
  const { length, headerLength } = decodedLength(src);
  if (length > maxLength) throw new SnappyCorruptError(`declared length ${length} exceeds ${maxLength}`);
  const dst = into ? into(length).subarray(0, length) : new Uint8Array(length);
  let d = 0;
  let s = headerLength;
  const end = src.length;
  while (s < end) {
    const tag = src[s];
    let offset: number;
    let n: number;
    switch (tag & 3) {
      case 0: {
        let x = tag >>> 2;
        s++;
        if (x >= 60) {
          const k = x - 59;
          if (s + k > end) throw new SnappyCorruptError("truncated literal length");
          x = src[s];
          if (k > 1) x |= src[s + 1] << 8;
          if (k > 2) x |= src[s + 2] << 16;
          if (k > 3) x = (x | (src[s + 3] << 24)) >>> 0;
          s += k;
        }
        n = x + 1;
        if (n > length - d || n > end - s) throw new SnappyCorruptError("literal runs past the end");
        dst.set(src.subarray(s, s + n), d);
        d += n;
        s += n;
        continue;
      }
      case 1:
        if (s + 2 > end) throw new SnappyCorruptError("truncated copy");
        n = 4 + ((tag >>> 2) & 7);
        offset = ((tag & 0xe0) << 3) | src[s + 1];
        s += 2;
        break;
      case 2:
        if (s + 3 > end) throw new SnappyCorruptError("truncated copy");
        n = 1 + (tag >>> 2);
        offset = src[s + 1] | (src[s + 2] << 8);
        s += 3;
        break;
      default:
        if (s + 5 > end) throw new SnappyCorruptError("truncated copy");
        n = 1 + (tag >>> 2);
        offset = (src[s + 1] | (src[s + 2] << 8) | (src[s + 3] << 16) | (src[s + 4] << 24)) >>> 0;
        s += 5;
    }
    if (offset === 0 || offset > d || n > length - d) throw new SnappyCorruptError("copy out of range");
    if (offset >= n) {
      dst.copyWithin(d, d - offset, d - offset + n);
      d += n;
    } else {
      // Overlapping copy: repeats the last `offset` bytes, so it must run forwards.
      for (let k = 0; k < n; k++, d++) dst[d] = dst[d - offset];
    }
  }
  if (d !== length) throw new SnappyCorruptError(`decoded ${d} bytes, block declares ${length}`);
  return dst;
}
