/**
 * HTTP/2 frames (RFC 9113, section 4 and 6): the 9-byte header, and the payloads of the frame
 * types a tunnel needs. Pure functions over bytes.
 * @module
 */

/** Frame header length. */
export const FRAME_HEADER = 9;
/** The client connection preface (section 3.4). */
export const PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** SETTINGS_MAX_FRAME_SIZE's initial value, and the least a peer may announce. */
export const DEFAULT_MAX_FRAME = 16384;
/** Flow-control windows start at this size (section 6.9.2). */
export const DEFAULT_WINDOW = 65535;
/** The largest flow-control window (2^31 - 1). */
export const MAX_WINDOW = 0x7fffffff;

/** Frame types. */
export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

/** Flags (END_STREAM and ACK share a bit, on different frame types). */
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** SETTINGS identifiers. */
export const Setting = {
  HEADER_TABLE_SIZE: 1,
  ENABLE_PUSH: 2,
  MAX_CONCURRENT_STREAMS: 3,
  INITIAL_WINDOW_SIZE: 4,
  MAX_FRAME_SIZE: 5,
  MAX_HEADER_LIST_SIZE: 6,
} as const;

/** Error codes (section 7). */
export const ErrorCode = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  STREAM_CLOSED: 5,
  FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
} as const;

/** A peer that broke the protocol: the connection ends with GOAWAY(code). */
export class Http2Error extends Error {
  constructor(message: string, readonly code: number = ErrorCode.PROTOCOL_ERROR) {
    super(`http2: ${message}`);
    this.name = "Http2Error";
  }
}

/** A frame header. */
export interface FrameHeader {
  length: number;
  type: number;
  flags: number;
  streamId: number;
}

/** Parses the frame header at `off`. */
export function parseFrameHeader(b: Uint8Array, off = 0): FrameHeader {
  return {
    length: (b[off] << 16) | (b[off + 1] << 8) | b[off + 2],
    type: b[off + 3],
    flags: b[off + 4],
    streamId: ((b[off + 5] & 0x7f) << 24 | (b[off + 6] << 16) | (b[off + 7] << 8) | b[off + 8]) >>> 0,
  };
}

/** Writes a frame header into `out` at `off`. */
export function putFrameHeader(out: Uint8Array, off: number, h: FrameHeader): void {
  out[off] = h.length >>> 16;
  out[off + 1] = h.length >>> 8;
  out[off + 2] = h.length;
  out[off + 3] = h.type;
  out[off + 4] = h.flags;
  out[off + 5] = (h.streamId >>> 24) & 0x7f;
  out[off + 6] = h.streamId >>> 16;
  out[off + 7] = h.streamId >>> 8;
  out[off + 8] = h.streamId;
}

/** A whole frame: header and payload in one buffer. */
export function encodeFrame(type: number, flags: number, streamId: number, payload?: Uint8Array): Uint8Array {
  const length = payload?.length ?? 0;
  const out = new Uint8Array(FRAME_HEADER + length);
  putFrameHeader(out, 0, { length, type, flags, streamId });
  if (payload) out.set(payload, FRAME_HEADER);
  return out;
}

/** A SETTINGS frame with `settings` in order ([id, value] pairs). */
export function encodeSettings(settings: readonly [number, number][]): Uint8Array {
  const p = new Uint8Array(settings.length * 6);
  const v = new DataView(p.buffer);
  settings.forEach(([id, value], i) => {
    v.setUint16(i * 6, id);
    v.setUint32(i * 6 + 2, value);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, p);
}

/** The [id, value] pairs of a SETTINGS payload. */
export function parseSettings(p: Uint8Array): [number, number][] {
  if (p.length % 6 !== 0) {
    throw new Http2Error("SETTINGS length not a multiple of 6", ErrorCode.FRAME_SIZE_ERROR);
  }
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const out: [number, number][] = [];
  for (let i = 0; i < p.length; i += 6) out.push([v.getUint16(i), v.getUint32(i + 2)]);
  return out;
}

/** A WINDOW_UPDATE frame. */
export function encodeWindowUpdate(streamId: number, increment: number): Uint8Array {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setUint32(0, increment & MAX_WINDOW);
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, p);
}

/** The increment of a WINDOW_UPDATE payload. */
export function parseWindowUpdate(p: Uint8Array): number {
  if (p.length !== 4) throw new Http2Error("WINDOW_UPDATE length not 4", ErrorCode.FRAME_SIZE_ERROR);
  return (((p[0] & 0x7f) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

/** A RST_STREAM frame. */
export function encodeRstStream(streamId: number, code: number): Uint8Array {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setUint32(0, code);
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, p);
}

/** A GOAWAY frame. */
export function encodeGoAway(lastStreamId: number, code: number, debug = ""): Uint8Array {
  const d = new TextEncoder().encode(debug);
  const p = new Uint8Array(8 + d.length);
  const v = new DataView(p.buffer);
  v.setUint32(0, lastStreamId & MAX_WINDOW);
  v.setUint32(4, code);
  p.set(d, 8);
  return encodeFrame(FrameType.GOAWAY, 0, 0, p);
}

/** The 32-bit code of a RST_STREAM payload or the error code of a GOAWAY payload. */
export function parseErrorCode(type: number, p: Uint8Array): number {
  const at = type === FrameType.GOAWAY ? 4 : 0;
  if (p.length < at + 4) throw new Http2Error("short RST_STREAM/GOAWAY", ErrorCode.FRAME_SIZE_ERROR);
  return new DataView(p.buffer, p.byteOffset + at, 4).getUint32(0);
}

/**
 * The payload of DATA/HEADERS without padding (and, for HEADERS, without the priority
 * fields): the data or the header block fragment.
 */
export function unpad(h: FrameHeader, p: Uint8Array): Uint8Array {
  let start = 0, end = p.length;
  if (h.flags & Flag.PADDED) {
    if (p.length < 1) throw new Http2Error("PADDED frame without its pad length");
    start = 1;
    end -= p[0];
  }
  if (h.type === FrameType.HEADERS && h.flags & Flag.PRIORITY) start += 5;
  if (end < start) throw new Http2Error("padding longer than the frame");
  return p.subarray(start, end);
}
