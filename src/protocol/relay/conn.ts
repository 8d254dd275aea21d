/**
 * The relay protocol's lazy handshakes over a stream. The client reads the server's response
 * on its first read, never before it lets data through, and (with `nodelay=false`) holds its
 * request for the first payload; the server may hold its OK response for the first bytes it
 * sends back. Both keep the stream's direct path, so a relay over a plain socket still runs
 * the fast copy loop.
 * @module
 */
import { BufferedReader, prependIO } from "../../core/buffered_reader.ts";
import { type DirectIO, type Duplex, IODuplex } from "../../core/duplex.ts";
import { concat } from "../../core/bytes.ts";
import { directIO } from "../../core/direct_io.ts";
import { passThrough } from "../../core/socket.ts";

/**
 * I/O whose first write (or half-close) carries `head` in front. With `holdMs > 0`, the first
 * read arms a timer that sends `head` alone if nothing has been written by then.
 */
class HeadIO implements DirectIO {
  #head: Uint8Array | null;
  /** The timer's lone write of the head, which the next write must follow. */
  #flushing: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly io: DirectIO, head: Uint8Array, readonly holdMs = 0) {
    this.#head = head;
    // Reads are `io`'s; writes too once the head is out (a bulk copy may then splice the socket).
    passThrough(this, {
      read: () => this.io,
      write: () => this.#head || this.#flushing ? undefined : this.io,
    });
  }

  #take(): Uint8Array | null {
    const h = this.#head;
    if (h) {
      this.#head = null;
      clearTimeout(this.#timer);
    }
    return h;
  }

  /** Starts the hold timer once, while the head is still held. */
  arm(): void {
    if (this.holdMs <= 0 || !this.#head || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      const h = this.#take();
      // A failure shows on the next write or read; it must not be an unhandled rejection here.
      if (h) this.#flushing = this.io.write(h).catch(() => {});
    }, this.holdMs);
  }

  /** Stops the timer (the connection is closing). */
  dispose(): void {
    clearTimeout(this.#timer);
  }

  read(buf: Uint8Array): Promise<number | null> {
    return this.io.read(buf);
  }

  write(data: Uint8Array): Promise<void> {
    const h = this.#take();
    if (h) return this.io.write(concat([h, data]));
    const f = this.#flushing;
    if (f) {
      this.#flushing = null;
      return f.then(() => this.io.write(data));
    }
    return this.io.write(data);
  }

  async closeWrite(): Promise<void> {
    const h = this.#take();
    if (h) await this.io.write(h);
    else if (this.#flushing) await this.#flushing;
    await this.io.closeWrite();
  }
}

/** `conn` with `head` sent in front of the first bytes written to it. */
export function headOnFirstWrite(conn: Duplex, head: Uint8Array): Duplex {
  return new IODuplex(new HeadIO(directIO(conn), head), () => conn.close(), conn.local, conn.remote);
}

/**
 * `conn` as a relay client sees it: the first read first runs `readResponse` (which throws on
 * a refusal), and bytes the server sent after its response are delivered, not lost. Writes go
 * through at once, before the response has come: a server that holds its response until the
 * target speaks must still get a client-first protocol's request. `request`, when given, goes
 * out with the first write, or alone `holdMs` after the first read if nothing was written by
 * then (a server-first protocol: the client waits for a banner); null means it was sent.
 */
export function lazyHandshake(
  conn: Duplex,
  request: Uint8Array | null,
  readResponse: (r: BufferedReader) => Promise<void>,
  holdMs = 0,
): Duplex {
  const raw = directIO(conn);
  const head = request ? new HeadIO(raw, request, holdMs) : null;
  const io: DirectIO = head ?? raw;
  let ready: DirectIO | null = null;
  let starting: Promise<DirectIO> | null = null;
  const start = () =>
    starting ??= (async () => {
      head?.arm();
      const r = new BufferedReader(new IODuplex(io, () => conn.close()));
      await readResponse(r);
      return ready = prependIO(io, r.takeBuffered());
    })();
  const lazy: DirectIO = {
    read: (buf) => ready ? ready.read(buf) : start().then((d) => d.read(buf)),
    write: (d) => io.write(d),
    closeWrite: () => io.closeWrite(),
  };
  // Reads are `ready`'s once the response is in; writes are `io`'s.
  passThrough(lazy, { read: () => ready ?? undefined, write: () => io });
  const close = () => {
    head?.dispose();
    conn.close();
  };
  return new IODuplex(lazy, close, conn.local, conn.remote);
}
