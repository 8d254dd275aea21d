/**
 * RFC 6455 frame headers and masking: pure functions over bytes.
 *
 * ```
 *  0                   1                   2                   3
 * |F|R|R|R| opcode|M| len(7)    | extended len (16 or 64, optional) | mask key (32, optional) |
 * ```
 * @module
 */

/** Frame opcodes. */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** The longest frame header: 2 + 8 (64-bit length) + 4 (mask key). */
export const MAX_HEADER = 14;

/** Control frames carry at most this many payload bytes (RFC 6455 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** A protocol violation by the peer; the connection is closed with status 1002. */
export class WebSocketProtocolError extends Error {
  constructor(message: string) {
    super(`websocket: ${message}`);
    this.name = "WebSocketProtocolError";
  }
}

/** A parsed frame header. */
export interface FrameHeader {
  fin: boolean;
  opcode: number;
  /** Payload length. */
  length: number;
  /** The masking key, or null for an unmasked frame. */
  mask: Uint8Array | null;
  /** Bytes the header occupied. */
  headerLength: number;
}

/** Length of a header whose first two bytes are `b0 b1`. */
export function headerLength(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/**
 * Parses a frame header from the start of `b`; null when more bytes are needed. Throws
 * {@link WebSocketProtocolError} for what no extension-less peer may send.
 */
export function parseFrameHeader(b: Uint8Array): FrameHeader | null {
  if (b.length < 2) return null;
  const need = headerLength(b[1]);
  if (b.length < need) return null;
  const b0 = b[0];
  if (b0 & 0x70) throw new WebSocketProtocolError("reserved bits set (no extension was negotiated)");
  const opcode = b0 & 0x0f;
  const fin = (b0 & 0x80) !== 0;
  const control = opcode >= 0x8;
  if (!control && opcode > Opcode.BINARY) throw new WebSocketProtocolError(`unknown opcode ${opcode}`);
  if (control && opcode > Opcode.PONG) throw new WebSocketProtocolError(`unknown opcode ${opcode}`);
  const len7 = b[1] & 0x7f;
  let length = len7;
  let off = 2;
  if (len7 === 126) {
    length = (b[2] << 8) | b[3];
    off = 4;
  } else if (len7 === 127) {
    const hi = ((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0;
    if (hi > 0x1fffff) throw new WebSocketProtocolError("frame length exceeds 2^53");
    length = hi * 2 ** 32 + (((b[6] << 24) | (b[7] << 16) | (b[8] << 8) | b[9]) >>> 0);
    off = 10;
  }
  if (control && (length > MAX_CONTROL_PAYLOAD || !fin)) {
    throw new WebSocketProtocolError("control frame fragmented or longer than 125 bytes");
  }
  const mask = b[1] & 0x80 ? b.slice(off, off + 4) : null;
  return { fin, opcode, length, mask, headerLength: need };
}

/**
 * Writes a header for a final frame into `out` at `off`; returns its length. With `mask`
 * the masked bit is set and the key follows the length.
 */
export function writeFrameHeader(
  out: Uint8Array,
  off: number,
  opcode: number,
  length: number,
  mask: Uint8Array | null,
): number {
  const start = off;
  out[off++] = 0x80 | opcode;
  const m = mask ? 0x80 : 0;
  if (length < 126) out[off++] = m | length;
  else if (length < 0x10000) {
    out[off++] = m | 126;
    out[off++] = length >>> 8;
    out[off++] = length & 0xff;
  } else {
    out[off++] = m | 127;
    const hi = Math.floor(length / 2 ** 32);
    const lo = length >>> 0;
    out[off++] = hi >>> 24;
    out[off++] = (hi >>> 16) & 0xff;
    out[off++] = (hi >>> 8) & 0xff;
    out[off++] = hi & 0xff;
    out[off++] = lo >>> 24;
    out[off++] = (lo >>> 16) & 0xff;
    out[off++] = (lo >>> 8) & 0xff;
    out[off++] = lo & 0xff;
  }
  if (mask) {
    out.set(mask, off);
    off += 4;
  }
  return off - start;
}

/** Encodes a whole final frame (header and payload) into a new array. */
export function encodeFrame(opcode: number, payload: Uint8Array, mask: Uint8Array | null = null): Uint8Array {
  const out = new Uint8Array(MAX_HEADER + payload.length);
  const h = writeFrameHeader(out, 0, opcode, payload.length, mask);
  if (mask) maskInto(payload, out.subarray(h), mask, 0);
  else out.set(payload, h);
  return out.subarray(0, h + payload.length);
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The 4-byte key rotated to start at `phase`, as a native-endian 32-bit word. */
function maskWord(mask: Uint8Array, phase: number): number {
  const b = (i: number) => mask[(phase + i) & 3];
  return littleEndian
    ? (b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24)) >>> 0
    : ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0;
}

/**
 * XORs `src` with the key into `dst` (same length or longer; may be `src` itself),
 * `phase` being the payload offset of `src[0]` within its frame. Works a word at a time.
 */
export function maskInto(src: Uint8Array, dst: Uint8Array, mask: Uint8Array, phase: number): void {
  const n = src.length;
  let i = 0;
  // Byte-wise until dst is 4-byte aligned, then whole words when src is aligned the same way.
  while (i < n && ((dst.byteOffset + i) & 3) !== 0) {
    dst[i] = src[i] ^ mask[(phase + i) & 3];
    i++;
  }
  if (((src.byteOffset + i) & 3) === 0 && n - i >= 16) {
    const words = (n - i) >>> 2;
    const s32 = new Uint32Array(src.buffer, src.byteOffset + i, words);
    const d32 = new Uint32Array(dst.buffer, dst.byteOffset + i, words);
    const w = maskWord(mask, phase + i);
    for (let k = 0; k < words; k++) d32[k] = s32[k] ^ w;
    i += words * 4;
  }
  for (; i < n; i++) dst[i] = src[i] ^ mask[(phase + i) & 3];
}
