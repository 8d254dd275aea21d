/**
 * Datagrams carried inside a byte stream: a framing codec turns a stream duplex into a
 * datagram duplex (one chunk per datagram). Relay (LEN + payload), SOCKS5 UDP-over-TCP and
 * GOST's UDP-over-HTTP all use this with their own codec.
 * @module
 */
import { BufferedReader } from "./buffered_reader.ts";
import { concat } from "./bytes.ts";
import { type Duplex, layerDuplex } from "./duplex.ts";
import { writeHalf } from "./direct_io.ts";

/** A datagram framing inside a stream. */
export interface FrameCodec {
  /** One frame for `payload`, in a fresh buffer. */
  encode(payload: Uint8Array): Uint8Array;
  /** The next payload from `r` (its own bytes), or null at a clean end of stream. */
  read(r: BufferedReader): Promise<Uint8Array | null>;
}

/** Options for {@link framedDatagrams}. */
export interface FramedOptions {
  /** Bytes sent in the same write as the first frame (a protocol header held back). */
  writePrefix?: Uint8Array;
  /** Runs once before the first frame is read (a protocol response read lazily). */
  beforeRead?: (r: BufferedReader) => Promise<void>;
  /** A reader already holding bytes of this stream (left over from a handshake). */
  reader?: BufferedReader;
}

/** A datagram duplex whose chunks travel as frames of `codec` over `conn`. */
export function framedDatagrams(conn: Duplex, codec: FrameCodec, opts: FramedOptions = {}): Duplex {
  // The reader holds the read side; frames are fresh buffers, written as they are.
  const reader = opts.reader ?? new BufferedReader(conn);
  const out = writeHalf(conn);
  const write = (b: Uint8Array) => out.write(b);
  const closeWrite = () => out.closeWrite();
  let prefix = opts.writePrefix ?? null;
  let before = opts.beforeRead ?? null;
  const takePrefix = (frame: Uint8Array): Uint8Array => {
    if (!prefix) return frame;
    const out = concat([prefix, frame]);
    prefix = null;
    return out;
  };
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (before) {
        const b = before;
        before = null;
        await b(reader);
      }
      const payload = await codec.read(reader);
      if (payload === null) controller.close();
      else controller.enqueue(payload);
    },
    cancel: () => conn.close(),
  }, { highWaterMark: 0 });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => write(takePrefix(codec.encode(chunk))),
    async close() {
      if (prefix) await write(takePrefix(new Uint8Array(0)));
      await closeWrite();
    },
    abort: () => conn.close(),
  });
  return layerDuplex(conn, readable, writable, true);
}

/** Relay's fixed-target UDP framing: `LEN(2, BE) | PAYLOAD`. */
export const lengthPrefixCodec: FrameCodec = {
  encode(payload) {
    if (payload.length > 0xffff) throw new RangeError(`datagram of ${payload.length} bytes exceeds 65535`);
    const out = new Uint8Array(2 + payload.length);
    out[0] = payload.length >> 8;
    out[1] = payload.length & 0xff;
    out.set(payload, 2);
    return out;
  },
  async read(r) {
    if (!(await r.want(2))) {
      if (r.buffered === 0) return null;
      throw new Error("stream ended inside a datagram length");
    }
    const h = await r.peek(2);
    const len = (h[0] << 8) | h[1];
    r.skip(2);
    return await r.readExact(len, "datagram");
  },
};
