/**
 * The one type every layer shares: a bidirectional byte stream.
 *
 * Listeners yield duplexes, dialers and connectors take and return them, and every
 * data channel (TLS, WebSocket, KCP, SSH) and proxy protocol wraps one and returns one.
 * @module
 */
import { QUIET_READS, ReadSizer } from "./read_buffer.ts";

/**
 * Direct, socket-like access to a duplex. Present only while nothing has taken the
 * duplex's Web Streams: `relay()` and handshake readers use it to copy bytes with a
 * plain read loop, which is several times cheaper than piping streams.
 */
export interface DirectIO {
  /** Reads into `buf`; resolves to the byte count, or `null` at end of stream. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Writes all of `data` (never a part of it). */
  write(data: Uint8Array): Promise<void>;
  /** Half-closes: the peer reads end of stream, reading here goes on. */
  closeWrite(): Promise<void>;
}

/** A bidirectional byte stream of `Uint8Array` chunks. */
export interface Duplex {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Local address as `host:port` (empty when not meaningful). */
  readonly local: string;
  /** Remote address as `host:port` (empty when not meaningful). */
  readonly remote: string;
  /** Socket-level access, until `readable` or `writable` is first taken. */
  readonly direct?: DirectIO;
  /**
   * True when every chunk is one datagram (UDP sessions, UDP-over-stream tunnels):
   * chunk boundaries carry meaning and must be kept.
   */
  readonly datagram?: boolean;
  /** Closes both directions and releases the underlying resources; idempotent. */
  close(): void;
}

/** First read size: an idle connection's pending read holds only this much. */
export const MIN_READ = 4 * 1024;
/** Largest read size, reached by growing while reads fill the buffer (bulk transfers). */
export const MAX_READ = 256 * 1024;

/**
 * Reads from a {@link DirectIO} as chunks the caller may keep. A small read is copied out of
 * a reused buffer; a large one hands the buffer over and the next read gets a fresh one,
 * four times larger when the last read filled it ({@link ReadSizer}). So an idle connection holds
 * 4 KiB and a bulk transfer reads 256 KiB at a time, with no full-size allocation per small chunk;
 * after a run of small reads the kept buffer is small again.
 */
export class ChunkPump {
  readonly #sizer = new ReadSizer(MIN_READ, MAX_READ, QUIET_READS);
  #buf = new Uint8Array(MIN_READ);
  constructor(readonly io: DirectIO) {}

  /** The next chunk, or null at end of stream. */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const buf = this.#buf;
      const n = await this.io.read(buf);
      if (n === null) return null;
      if (n === 0) continue;
      const resized = this.#sizer.update(n);
      if (n < buf.length >> 2) {
        if (resized) this.#buf = new Uint8Array(this.#sizer.size);
        return buf.slice(0, n);
      }
      this.#buf = new Uint8Array(this.#sizer.size);
      return buf.subarray(0, n);
    }
  }
}

/**
 * A duplex over a {@link DirectIO}. Its Web Streams are created lazily; once one is taken,
 * `direct` disappears so that nothing reads the same source twice.
 */
/**
 * A readable that asks `next` for one chunk per pull (null: the end) and buffers nothing
 * ahead (`highWaterMark: 0`), so a stream's own queue stays the only one; cancel calls `cancel`.
 */
export function pullReadable(
  next: () => Promise<Uint8Array | null>,
  cancel: () => void,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const chunk = await next();
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
    cancel,
  }, { highWaterMark: 0 });
}

/** A writable whose writes, close (the end of our data) and abort go straight to these. */
export function sinkWritable(
  write: (chunk: Uint8Array) => Promise<void>,
  close: () => Promise<void>,
  abort: () => void,
): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({ write, close, abort });
}

export class IODuplex implements Duplex {
  #io: DirectIO;
  #close: () => void;
  #readable?: ReadableStream<Uint8Array>;
  #writable?: WritableStream<Uint8Array>;
  #closed = false;
  readonly local: string;
  readonly remote: string;

  constructor(io: DirectIO, close: () => void, local = "", remote = "") {
    this.#io = io;
    this.#close = close;
    this.local = local;
    this.remote = remote;
  }

  get direct(): DirectIO | undefined {
    return this.#readable || this.#writable ? undefined : this.#io;
  }

  get readable(): ReadableStream<Uint8Array> {
    if (!this.#readable) {
      const pump = new ChunkPump(this.#io);
      this.#readable = pullReadable(() => pump.next(), () => this.close());
    }
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    if (!this.#writable) {
      const io = this.#io;
      this.#writable = sinkWritable((chunk) => io.write(chunk), () => io.closeWrite(), () => this.close());
    }
    return this.#writable;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#close();
    } catch {
      // already closed by the peer or the runtime
    }
  }
}

/** Builds a duplex from a pair of streams (a protocol or channel layer's output). */
export function streamDuplex(init: {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  close: () => void;
  local?: string;
  remote?: string;
  datagram?: boolean;
}): Duplex {
  let closed = false;
  return {
    readable: init.readable,
    writable: init.writable,
    local: init.local ?? "",
    remote: init.remote ?? "",
    datagram: init.datagram,
    close() {
      if (closed) return;
      closed = true;
      try {
        init.close();
      } catch {
        // ignore: closing twice or after the peer did
      }
    },
  };
}

/**
 * The duplex a framing layer makes over `below`: its own streams, with `below`'s addresses,
 * and closing it closes `below`.
 */
export function layerDuplex(
  below: Duplex,
  readable: ReadableStream<Uint8Array>,
  writable: WritableStream<Uint8Array>,
  datagram?: boolean,
): Duplex {
  return streamDuplex({
    readable,
    writable,
    close: () => below.close(),
    local: below.local,
    remote: below.remote,
    datagram,
  });
}

/** Writes all of `data` to a duplex through whichever path it currently offers. */
export async function writeTo(d: Duplex, data: Uint8Array): Promise<void> {
  if (d.direct) return d.direct.write(data);
  const writer = d.writable.getWriter();
  try {
    await writer.write(data);
  } finally {
    writer.releaseLock();
  }
}
