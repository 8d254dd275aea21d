/**
 * Reads a protocol handshake from a duplex byte by byte or field by field, then hands the
 * duplex back with any over-read bytes still in front of it.
 * @module
 */
import { type DirectIO, type Duplex, IODuplex, streamDuplex } from "./duplex.ts";
import { passThrough } from "./socket.ts";

/** The stream ended before a handshake field was complete. */
export class UnexpectedEOF extends Error {
  constructor(what = "handshake") {
    super(`connection closed during ${what}`);
    this.name = "UnexpectedEOF";
  }
}

/** A handshake field exceeded its bound. */
export class TooLong extends Error {
  constructor(what: string, max: number) {
    super(`${what} longer than ${max} bytes`);
    this.name = "TooLong";
  }
}

const FIRST_READ = 4096;

/**
 * A small read buffer over a duplex for parsing handshakes. Uses the duplex's direct path
 * when it has one, so that a plain socket stays a plain socket after the handshake.
 */
export class BufferedReader {
  #src: Duplex;
  #direct?: DirectIO;
  #reader?: ReadableStreamDefaultReader<Uint8Array>;
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #eof = false;

  constructor(src: Duplex) {
    this.#src = src;
    this.#direct = src.direct;
    if (!this.#direct) this.#reader = src.readable.getReader();
  }

  /** Bytes already read from the source and not yet consumed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Size of the read buffer (it grows only when a field needs more room). */
  get capacity(): number {
    return this.#buf.length;
  }

  /** Reads more from the source into the buffer; false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#direct) {
      if (this.#buf.length - this.#end < 512) this.#grow(FIRST_READ);
      const n = await this.#direct.read(this.#buf.subarray(this.#end));
      if (n === null) {
        this.#eof = true;
        return false;
      }
      this.#end += n;
      return true;
    }
    const r = await this.#reader!.read();
    if (r.done) {
      this.#eof = true;
      return false;
    }
    if (this.#buf.length - this.#end < r.value.length) this.#grow(r.value.length);
    this.#buf.set(r.value, this.#end);
    this.#end += r.value.length;
    return true;
  }

  /** Makes room for `extra` more bytes: compacts in place when that suffices, else grows. */
  #grow(extra: number) {
    const live = this.#end - this.#start;
    if (this.#start > 0 && live + extra <= this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#start = 0;
      this.#end = live;
      return;
    }
    const next = new Uint8Array(Math.max(this.#buf.length * 2, live + extra, FIRST_READ));
    next.set(this.#buf.subarray(this.#start, this.#end));
    this.#buf = next;
    this.#start = 0;
    this.#end = live;
  }

  /** Ensures at least `n` bytes are buffered; false if the stream ended first. */
  async want(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (this.#buf.length - this.#start < n) this.#grow(n);
      if (!(await this.fill())) return false;
    }
    return true;
  }

  /** Returns the next `n` bytes without consuming them (a view valid until the next read). */
  async peek(n: number, what?: string): Promise<Uint8Array> {
    if (!(await this.want(n))) throw new UnexpectedEOF(what);
    return this.#buf.subarray(this.#start, this.#start + n);
  }

  /** Consumes and returns a copy of the next `n` bytes. */
  async readExact(n: number, what?: string): Promise<Uint8Array> {
    const v = (await this.peek(n, what)).slice();
    this.#start += n;
    return v;
  }

  /** Consumes and returns the next byte. */
  async readByte(what?: string): Promise<number> {
    const v = (await this.peek(1, what))[0];
    this.#start += 1;
    return v;
  }

  /** Consumes `n` bytes already looked at. */
  skip(n: number): void {
    this.#start = Math.min(this.#end, this.#start + n);
  }

  /**
   * Reads up to and including `delim`; throws {@link TooLong} past `max` bytes.
   * Returns a copy of the bytes including the delimiter. `check`, when given, sees the bytes
   * buffered so far before each wait for more (and may throw to stop waiting).
   */
  async readUntil(
    delim: Uint8Array,
    max: number,
    what = "header",
    check?: (soFar: Uint8Array) => void,
  ): Promise<Uint8Array> {
    let scanned = 0;
    for (;;) {
      const view = this.#buf.subarray(this.#start, this.#end);
      const at = indexOf(view, delim, Math.max(0, scanned - delim.length + 1));
      if (at >= 0) {
        const v = view.slice(0, at + delim.length);
        this.#start += at + delim.length;
        return v;
      }
      scanned = view.length;
      if (scanned > max) throw new TooLong(what, max);
      check?.(view);
      if (!(await this.fill())) throw new UnexpectedEOF(what);
    }
  }

  /** Takes the bytes buffered so far (consumes them). */
  takeBuffered(): Uint8Array {
    const v = this.#buf.slice(this.#start, this.#end);
    this.#start = this.#end = 0;
    return v;
  }

  /**
   * Ends the handshake: returns a duplex that yields the unconsumed bytes first and then
   * the rest of the source. A source with direct access keeps it.
   */
  release(): Duplex {
    const rest = this.takeBuffered();
    const src = this.#src;
    if (this.#direct) {
      if (rest.length === 0 && src instanceof IODuplex) return src;
      return new IODuplex(prependIO(this.#direct, rest), () => src.close(), src.local, src.remote);
    }
    const reader = this.#reader!;
    let head: Uint8Array | null = rest.length ? rest : null;
    const readable = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (head) {
          controller.enqueue(head);
          head = null;
          return;
        }
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
    return streamDuplex({
      readable,
      writable: src.writable,
      close: () => src.close(),
      local: src.local,
      remote: src.remote,
      datagram: src.datagram,
    });
  }
}

/** Direct I/O that yields `head` before reading from `io`. */
export function prependIO(io: DirectIO, head: Uint8Array): DirectIO {
  if (head.length === 0) return io;
  let pending: Uint8Array | null = head;
  const wrapper: DirectIO = {
    read(buf) {
      if (pending) {
        const n = Math.min(buf.length, pending.length);
        buf.set(pending.subarray(0, n));
        pending = n < pending.length ? pending.subarray(n) : null;
        return Promise.resolve(n);
      }
      return io.read(buf);
    },
    write: (d) => io.write(d),
    closeWrite: () => io.closeWrite(),
  };
  passThrough(wrapper, { read: () => pending ? undefined : io, write: () => io });
  return wrapper;
}

/** Index of `needle` in `hay` from `from`, or -1. */
export function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  outer: for (let i = hay.indexOf(first, from); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
