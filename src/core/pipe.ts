/**
 * In-memory connected duplexes, for tests and for joining two layers inside one process.
 * @module
 */
import { type DirectIO, type Duplex, IODuplex } from "./duplex.ts";

/** Options for {@link duplexPair}. */
export interface PipeOptions {
  /** Bytes one direction holds before writes wait for the reader (default 256 KiB). */
  capacity?: number;
  /** Addresses the two ends report (`a.local` = `b.remote`); default "pipe:a" / "pipe:b". */
  addrs?: [string, string];
}

/** Raised by a write to a pipe whose reading end was closed (like EPIPE on a socket). */
export class BrokenPipe extends Error {
  constructor() {
    super("write to a closed pipe");
    this.name = "BrokenPipe";
  }
}

/** One direction: a bounded FIFO of byte chunks. */
class ByteQueue {
  #chunks: Uint8Array[] = [];
  #head = 0;
  #size = 0;
  #eof = false;
  #broken = false;
  #readWaiter: (() => void) | null = null;
  #writeWaiters: (() => void)[] = [];
  constructor(readonly capacity: number) {}

  async read(buf: Uint8Array): Promise<number | null> {
    while (this.#size === 0) {
      if (this.#eof || this.#broken) return null;
      await new Promise<void>((r) => (this.#readWaiter = r));
    }
    let n = 0;
    while (n < buf.length && this.#head < this.#chunks.length) {
      const c = this.#chunks[this.#head];
      const k = Math.min(c.length, buf.length - n);
      buf.set(k === c.length ? c : c.subarray(0, k), n);
      n += k;
      if (k === c.length) this.#chunks[this.#head++] = EMPTY;
      else this.#chunks[this.#head] = c.subarray(k);
    }
    if (this.#head > 64 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
    this.#size -= n;
    if (this.#size < this.capacity) this.#wakeWriters();
    return n;
  }

  async write(data: Uint8Array): Promise<void> {
    if (this.#broken || this.#eof) throw new BrokenPipe();
    if (data.length === 0) return;
    // The caller may reuse `data` as soon as this resolves: keep a copy.
    this.#chunks.push(data.slice());
    this.#size += data.length;
    this.#wakeReader();
    while (this.#size > this.capacity && !this.#broken) {
      await new Promise<void>((r) => this.#writeWaiters.push(r));
    }
    if (this.#broken) throw new BrokenPipe();
  }

  /** The writer is done: the reader gets the rest, then end of stream. */
  end(): void {
    this.#eof = true;
    this.#wakeReader();
  }

  /** The reader is gone: pending and later writes fail, pending reads end. */
  break(): void {
    this.#broken = true;
    this.#chunks = [];
    this.#head = 0;
    this.#size = 0;
    this.#wakeReader();
    this.#wakeWriters();
  }

  #wakeReader() {
    const r = this.#readWaiter;
    this.#readWaiter = null;
    r?.();
  }

  #wakeWriters() {
    const ws = this.#writeWaiters;
    this.#writeWaiters = [];
    for (const w of ws) w();
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Two duplexes joined back to back: bytes written to one are read from the other. Each
 * direction is a bounded queue (writes wait while it is full), `writable.close()` (or
 * `direct.closeWrite()`) half-closes like a socket, and `close()` ends both directions:
 * the peer reads what was already sent and then end of stream, and its writes fail.
 * Both ends offer `direct` until their streams are taken, so either relay path is exercised.
 *
 * @example
 * ```ts
 * import { duplexPair } from "./pipe.ts";
 * import { writeTo } from "./duplex.ts";
 * const [a, b] = duplexPair();
 * await writeTo(a, new TextEncoder().encode("hi"));
 * const buf = new Uint8Array(2);
 * await b.direct!.read(buf);
 * a.close();
 * b.close();
 * ```
 */
export function duplexPair(opts: PipeOptions = {}): [Duplex, Duplex] {
  const capacity = opts.capacity ?? 256 * 1024;
  const [addrA, addrB] = opts.addrs ?? ["pipe:a", "pipe:b"];
  const aToB = new ByteQueue(capacity);
  const bToA = new ByteQueue(capacity);
  const end = (rx: ByteQueue, tx: ByteQueue): { io: DirectIO; close: () => void } => ({
    io: {
      read: (buf) => rx.read(buf),
      write: (data) => tx.write(data),
      closeWrite: () => {
        tx.end();
        return Promise.resolve();
      },
    },
    close: () => {
      tx.end();
      rx.break();
    },
  });
  const ea = end(bToA, aToB);
  const eb = end(aToB, bToA);
  return [new IODuplex(ea.io, ea.close, addrA, addrB), new IODuplex(eb.io, eb.close, addrB, addrA)];
}
