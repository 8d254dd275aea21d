/**
 * gost's QUIC tunnel on Deno's QUIC (quinn): one QUIC connection per node, each tunnelled
 * connection one bidirectional stream carrying the bytes as they are (no framing of its own).
 * The client and server ends here are the `StreamSession` / `StreamServer` (src/dialer/mux.ts,
 * src/listener/mux.ts) the shared multiplexed dialer and listener drive.
 * @module
 */
import { type DirectIO, type Duplex, IODuplex } from "../../core/duplex.ts";

/** The ALPN protocols gost's QUIC listener and dialer both force. */
export const QUIC_ALPN = ["h3", "quic/v1"];

/** Socket-like reads and writes over a QUIC stream (one copy per read, as from a socket). */
class StreamIO implements DirectIO {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #rest: Uint8Array | null = null;

  constructor(stream: Deno.QuicBidirectionalStream) {
    this.#reader = stream.readable.getReader();
    this.#writer = stream.writable.getWriter();
    // A stream reset by the peer rejects these; the reads and writes report it.
    this.#writer.closed.catch(() => {});
    this.#reader.closed.catch(() => {});
  }

  async read(buf: Uint8Array): Promise<number | null> {
    let chunk = this.#rest;
    this.#rest = null;
    while (!chunk || chunk.length === 0) {
      const r = await this.#reader.read();
      if (r.done) return null;
      chunk = r.value;
    }
    const n = Math.min(buf.length, chunk.length);
    buf.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#rest = chunk.subarray(n);
    return n;
  }

  write(data: Uint8Array): Promise<void> {
    return this.#writer.write(data);
  }

  closeWrite(): Promise<void> {
    return this.#writer.close().catch(() => {});
  }

  /** Resets what is still open: the peer sees the stream end (or reset) at once. */
  abort(): void {
    this.#reader.cancel().catch(() => {});
    this.#writer.close().catch(() => this.#writer.abort().catch(() => {}));
  }
}

/** A QUIC bidirectional stream as a duplex. */
export function streamDuplex(stream: Deno.QuicBidirectionalStream, local: string, remote: string): Duplex {
  const io = new StreamIO(stream);
  return new IODuplex(io, () => io.abort(), local, remote);
}

/** `host:port` of a Deno address. */
function addrOf(a: Deno.NetAddr): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/** Tracks the end of a QUIC connection. */
abstract class QuicEnd {
  #closed = false;
  readonly done: Promise<void>;

  constructor(readonly conn: Deno.QuicConn, onDone?: () => void) {
    this.done = conn.closed.then(() => {}, () => {}).then(() => {
      this.#closed = true;
      onDone?.();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close({ closeCode: 0, reason: "" });
    } catch {
      // already closed
    }
  }
}

/** The dialer's end: every `openStream` is a new bidirectional stream. */
export class QuicClientSession extends QuicEnd {
  /** Opening waits for the server's stream limit (`maxStreams`); that says nothing about the connection. */
  readonly keepOnOpenError = true;
  /** @param onDone runs once the connection has ended (closes the client's UDP endpoint). */
  constructor(conn: Deno.QuicConn, readonly local: string, onDone?: () => void) {
    super(conn, onDone);
  }

  async openStream(): Promise<Duplex> {
    const s = await this.conn.createBidirectionalStream({ waitUntilAvailable: true });
    return streamDuplex(s, this.local, addrOf(this.conn.remoteAddr));
  }
}

/** The listener's end: the streams the client opens. */
export class QuicServerSession extends QuicEnd {
  readonly #streams: ReadableStreamDefaultReader<Deno.QuicBidirectionalStream>;

  constructor(conn: Deno.QuicConn, readonly local: string) {
    super(conn);
    this.#streams = conn.incomingBidirectionalStreams.getReader();
  }

  async accept(): Promise<Duplex | null> {
    try {
      const r = await this.#streams.read();
      if (r.done) return null;
      return streamDuplex(r.value, this.local, addrOf(this.conn.remoteAddr));
    } catch {
      return null;
    }
  }
}

export { addrOf };
