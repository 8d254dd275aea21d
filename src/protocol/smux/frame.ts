/**
 * smux frame codec (xtaci/smux protocol versions 1 and 2), as pure functions.
 *
 * A frame is an 8-byte header `ver(1) cmd(1) length(2, LE) streamID(4, LE)` followed by
 * `length` bytes of payload. Version 2 adds UPD, whose payload is `consumed(4, LE)
 * window(4, LE)`: the receiver's flow-control report for one stream.
 * @module
 */

/** Header size in bytes. */
export const HEADER_SIZE = 8;
/** The largest payload a frame can carry (the length field is 16 bits). */
export const MAX_PAYLOAD = 0xffff;
/** Size of an UPD frame's payload. */
export const UPD_SIZE = 8;

/** Frame commands. */
export const Cmd = {
  /** Opens a stream. */
  SYN: 0,
  /** Ends a stream's data in one direction (EOF for the reader). */
  FIN: 1,
  /** Carries data. */
  PSH: 2,
  /** Keepalive, stream id 0. */
  NOP: 3,
  /** Version 2 only: window update for a stream. */
  UPD: 4,
} as const;

const CMD_NAMES = ["SYN", "FIN", "PSH", "NOP", "UPD"];

/** The name of a command for messages ("SYN", …, or "cmd 0x2a"). */
export function cmdName(cmd: number): string {
  return CMD_NAMES[cmd] ?? `cmd 0x${cmd.toString(16).padStart(2, "0")}`;
}

/** A parsed frame header. */
export interface FrameHeader {
  version: number;
  cmd: number;
  length: number;
  streamId: number;
}

/** The peer broke the smux protocol; the message names the offending frame. */
export class SmuxProtocolError extends Error {
  constructor(message: string) {
    super(`smux: ${message}`);
    this.name = "SmuxProtocolError";
  }
}

/** Writes a header into `buf` at `off`. */
export function putHeader(
  buf: Uint8Array,
  off: number,
  version: number,
  cmd: number,
  length: number,
  streamId: number,
): void {
  buf[off] = version;
  buf[off + 1] = cmd;
  buf[off + 2] = length & 0xff;
  buf[off + 3] = length >>> 8;
  buf[off + 4] = streamId & 0xff;
  buf[off + 5] = (streamId >>> 8) & 0xff;
  buf[off + 6] = (streamId >>> 16) & 0xff;
  buf[off + 7] = streamId >>> 24;
}

/** Reads a header from `buf` at `off` (at least 8 bytes must be there). */
export function parseHeader(buf: Uint8Array, off = 0): FrameHeader {
  return {
    version: buf[off],
    cmd: buf[off + 1],
    length: buf[off + 2] | (buf[off + 3] << 8),
    streamId: (buf[off + 4] | (buf[off + 5] << 8) | (buf[off + 6] << 16) | (buf[off + 7] << 24)) >>> 0,
  };
}

/** One complete frame (header and payload) in a fresh buffer. */
export function encodeFrame(
  version: number,
  cmd: number,
  streamId: number,
  payload?: Uint8Array,
): Uint8Array {
  const len = payload?.length ?? 0;
  if (len > MAX_PAYLOAD) throw new RangeError(`smux frame payload ${len} exceeds ${MAX_PAYLOAD} bytes`);
  const out = new Uint8Array(HEADER_SIZE + len);
  putHeader(out, 0, version, cmd, len, streamId);
  if (payload) out.set(payload, HEADER_SIZE);
  return out;
}

/** The bytes {@link encodeData} makes of `n` bytes of data. */
export function dataFramesLength(n: number, maxFrameSize: number): number {
  return n + Math.max(1, Math.ceil(n / maxFrameSize)) * HEADER_SIZE;
}

/**
 * PSH frames for all of `data`, split at `maxFrameSize`, in one buffer (so they go out in
 * one write): a view of `out` when given (at least {@link dataFramesLength} bytes), else of a
 * fresh buffer.
 */
export function encodeData(
  version: number,
  streamId: number,
  data: Uint8Array,
  maxFrameSize: number,
  out?: Uint8Array,
): Uint8Array {
  const total = dataFramesLength(data.length, maxFrameSize);
  out ??= new Uint8Array(total);
  let src = 0;
  let dst = 0;
  do {
    const n = Math.min(maxFrameSize, data.length - src);
    putHeader(out, dst, version, Cmd.PSH, n, streamId);
    out.set(data.subarray(src, src + n), dst + HEADER_SIZE);
    src += n;
    dst += HEADER_SIZE + n;
  } while (src < data.length);
  return out.subarray(0, total);
}

/** A version 2 UPD frame: the receiver has consumed `consumed` bytes and offers `window`. */
export function encodeUpd(version: number, streamId: number, consumed: number, window: number): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + UPD_SIZE);
  putHeader(out, 0, version, Cmd.UPD, UPD_SIZE, streamId);
  const v = new DataView(out.buffer);
  v.setUint32(HEADER_SIZE, consumed >>> 0, true);
  v.setUint32(HEADER_SIZE + 4, window >>> 0, true);
  return out;
}

/** Parses an UPD payload. */
export function parseUpd(payload: Uint8Array): { consumed: number; window: number } {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return { consumed: v.getUint32(0, true), window: v.getUint32(4, true) };
}

/**
 * Checks a received header against the session's version; returns the error to end the
 * session with, or null. Control frames must carry exactly their payload (smux reads none
 * for SYN/FIN/NOP and exactly 8 bytes for UPD, so any other length would desynchronise it).
 */
export function checkHeader(h: FrameHeader, version: number): SmuxProtocolError | null {
  if (h.version !== version) {
    return new SmuxProtocolError(
      `frame version ${h.version} on a version ${version} session (${cmdName(h.cmd)}, stream ${h.streamId})`,
    );
  }
  switch (h.cmd) {
    case Cmd.PSH:
      return null;
    case Cmd.SYN:
    case Cmd.FIN:
    case Cmd.NOP:
      return h.length === 0 ? null : new SmuxProtocolError(
        `${cmdName(h.cmd)} frame with a ${h.length}-byte payload (stream ${h.streamId}); expected none`,
      );
    case Cmd.UPD:
      if (version < 2) {
        return new SmuxProtocolError(`UPD frame on a version 1 session (stream ${h.streamId})`);
      }
      return h.length === UPD_SIZE ? null : new SmuxProtocolError(
        `UPD frame with a ${h.length}-byte payload (stream ${h.streamId}); expected 8`,
      );
    default:
      return new SmuxProtocolError(`unknown command ${h.cmd} (length ${h.length}, stream ${h.streamId})`);
  }
}
