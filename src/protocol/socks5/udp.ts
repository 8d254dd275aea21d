/**
 * SOCKS5 UDP datagram headers: the standard one (RFC 1928 section 7) carried in UDP
 * packets, and GOST's UDP-over-stream frame, the same header with RSV holding the payload
 * length and FRAG = 0xFF (used by SOCKS5 0xF3, HTTP `X-Gost-Protocol: udp` and relay BIND):
 *
 * ```
 * RSV(2) | FRAG(1) | ATYP | DST.ADDR | DST.PORT(2) | DATA
 * ```
 * @module
 */
import type { BufferedReader } from "../../core/buffered_reader.ts";
import type { FrameCodec } from "../../core/datagram_stream.ts";
import { decodeSocksAddr, encodeSocksAddr, socksAddrLength } from "../../core/socks_addr.ts";

/** FRAG value marking a length-prefixed (stream) frame. */
export const FRAG_STREAM = 0xff;

/** Malformed UDP header bytes. */
export class UdpHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UdpHeaderError";
  }
}

function encodeWith(rsv: number, frag: number, addr: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 + addr.length + payload.length);
  out[0] = rsv >> 8;
  out[1] = rsv & 0xff;
  out[2] = frag;
  out.set(addr, 3);
  out.set(payload, 3 + addr.length);
  return out;
}

/** A stream frame; `addr` is the already-encoded address (see `encodeSocksAddr`). */
export function encodeStreamFrame(addr: Uint8Array, payload: Uint8Array): Uint8Array {
  if (payload.length > 0xffff) throw new RangeError(`datagram of ${payload.length} bytes exceeds 65535`);
  return encodeWith(payload.length, FRAG_STREAM, addr, payload);
}

/** Reads one stream frame; null at a clean end of stream. */
export async function readStreamFrame(
  r: BufferedReader,
): Promise<{ addr: string; payload: Uint8Array } | null> {
  if (!(await r.want(1))) return null;
  const head = await r.peek(5, "udp frame");
  if (head[2] !== FRAG_STREAM) {
    throw new UdpHeaderError(`not a UDP-over-stream frame (FRAG 0x${head[2].toString(16)})`);
  }
  let alen: number;
  try {
    alen = socksAddrLength(head, 3);
  } catch (err) {
    throw new UdpHeaderError((err as Error).message);
  }
  const len = (head[0] << 8) | head[1];
  const buf = await r.readExact(3 + alen + len, "udp frame");
  const a = decodeSocksAddr(buf, 3);
  return { addr: a.addr, payload: buf.subarray(3 + alen) };
}

/** A frame codec for a fixed peer: frames carry `addr`; received addresses are dropped. */
export function streamFrameCodec(addr: string): FrameCodec {
  const encoded = encodeSocksAddr(addr);
  return {
    encode: (payload) => encodeStreamFrame(encoded, payload),
    async read(r) {
      const f = await readStreamFrame(r);
      return f ? f.payload : null;
    },
  };
}

/** A standard SOCKS5 UDP datagram (RSV 0, FRAG 0). */
export function encodeDatagram(addr: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeWith(0, 0, addr, payload);
}

/** Decodes a standard SOCKS5 UDP datagram; fragments (FRAG != 0) are rejected. */
export function decodeDatagram(buf: Uint8Array): { addr: string; payload: Uint8Array } {
  if (buf.length < 4) throw new UdpHeaderError("datagram shorter than its header");
  if (buf[2] !== 0) throw new UdpHeaderError(`fragmented datagram (FRAG ${buf[2]}) not supported`);
  let a;
  try {
    a = decodeSocksAddr(buf, 3);
  } catch (err) {
    throw new UdpHeaderError((err as Error).message);
  }
  return { addr: a.addr, payload: buf.subarray(3 + a.length) };
}
