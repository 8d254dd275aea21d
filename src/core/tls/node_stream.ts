/**
 * Bridges between our duplexes and Node streams, so that `node:tls` can run TLS over any
 * stream (a tunnel through earlier hops, not only a socket) and its TLS socket can be used
 * as a duplex again.
 *
 * Deno's `node:tls` over a JavaScript stream applies no backpressure of its own: it takes
 * every chunk the transport offers, decrypts it and buffers the plaintext, and hands over
 * its whole buffer (concatenated) on the next read. Left alone, a fast sender fills memory
 * and every read copies hundreds of megabytes. So the two adapters of one connection share
 * a {@link FlowGate}: the transport stops reading while decrypted bytes wait unread, and
 * the reader lets it go on once it took them.
 * @module
 */
import type { Duplex as NodeDuplex } from "node:stream";
import type { DirectIO, Duplex } from "../duplex.ts";
import { SOURCE_END, toNodeStream as toCoreNodeStream } from "../node_stream.ts";

export { SOURCE_END };

/** Decrypted bytes allowed to wait unread before the transport stops reading. */
export const MAX_PENDING = 512 * 1024;

/** Lets the reader of a TLS socket hold the transport beneath it. */
export class FlowGate {
  #held: () => boolean = () => false;
  #wake: (() => void) | null = null;

  /** Installs the check the transport makes before each read. */
  holdWhile(check: () => boolean): void {
    this.#held = check;
  }

  /** Resolves once the transport may read again. */
  async room(): Promise<void> {
    while (this.#held()) await new Promise<void>((r) => this.#wake = r);
  }

  /** Called by the reader after taking bytes. */
  release(): void {
    const w = this.#wake;
    if (!w || this.#held()) return;
    this.#wake = null;
    w();
  }
}

const gates = new WeakMap<NodeDuplex, FlowGate>();

/**
 * A Node duplex stream over `d` (which it then owns) for `node:tls` to run on: core's
 * adapter, half-open, holding its reads at the gate that {@link nodeStreamIO} controls.
 */
export function toNodeStream(d: Duplex): NodeDuplex {
  const gate = new FlowGate();
  const stream = toCoreNodeStream(d, {
    allowHalfOpen: true,
    beforeRead: () => gate.room(),
    onDestroy: () => {
      gate.holdWhile(() => false);
      gate.release();
    },
    closeWriteErrors: true,
  });
  gates.set(stream, gate);
  return stream;
}

/** The read switch of the TCP handle under a `node:tls` socket attached natively (Deno internals). */
interface NativeReadSwitch {
  readStop(): number;
  readStart(): number;
}

function nativeSocketHandle(s: NodeDuplex): NativeReadSwitch | undefined {
  const h = (s as unknown as { _handle?: { _nativeTcpHandle?: Partial<NativeReadSwitch> } })._handle
    ?._nativeTcpHandle;
  return typeof h?.readStop === "function" && typeof h.readStart === "function"
    ? h as NativeReadSwitch
    : undefined;
}

/**
 * Direct I/O over a Node duplex (a `tls.TLSSocket`). Decrypted chunks are queued as they
 * come (at most {@link MAX_PENDING} bytes, through the transport's gate) and reads fill the
 * caller's buffer from them; writes resolve once the stream has taken the bytes and the
 * transport has room (so the caller may reuse them, and nothing piles up unbounded).
 *
 * `transport` is the stream the TLS socket runs over (from {@link toNodeStream}); without
 * one (TLS over a native `node:net` socket) the TLS socket pauses itself instead. Deno's
 * `node:tls` does not always end its readable side when the peer's close_notify and FIN
 * arrive after this side half-closed (seen with transfers over ~64 KiB), so the end of the
 * transport also ends reading once everything decrypted has been taken.
 */
export function nodeStreamIO(s: NodeDuplex, transport?: NodeDuplex): DirectIO {
  const queue: Uint8Array[] = [];
  let head = 0; // offset into queue[0]
  let queued = 0;
  let ended = false;
  let transportEnded = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const gate = transport ? gates.get(transport) : undefined;
  gate?.holdWhile(() => queued >= MAX_PENDING && !ended && !failure);
  // Over a native socket (no JavaScript transport to hold), the stream pauses, and so does
  // the socket beneath: Deno's TLS layer keeps reading and decrypting into an unbounded
  // buffer while its TLS socket is paused.
  const native = transport ? undefined : nativeSocketHandle(s);
  let paused = false;
  const hold = () => {
    if (gate || paused || queued < MAX_PENDING) return;
    paused = true;
    s.pause();
    native?.readStop();
  };
  const unhold = () => {
    // Resume only once most of the queue is taken, so that a reader slower than the socket
    // does not stop and restart it for every chunk.
    if (!paused || queued > MAX_PENDING / 4) return;
    paused = false;
    native?.readStart();
    s.resume();
  };
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const until = () => new Promise<void>((r) => wake = r);
  s.on("data", (chunk: Uint8Array) => {
    if (chunk.length === 0) return;
    queue.push(chunk);
    queued += chunk.length;
    hold();
    notify();
  });
  s.on("end", () => {
    ended = true;
    notify();
    gate?.release();
  });
  s.on("close", () => {
    ended = true;
    notify();
    gate?.release();
  });
  s.on("error", (err: Error) => {
    failure ??= err;
    notify();
    gate?.release();
  });
  transport?.once(SOURCE_END, () => {
    transportEnded = true;
    notify();
  });
  /** Moves queued bytes into `buf`, across chunks; returns the count. */
  const take = (buf: Uint8Array): number => {
    let n = 0;
    while (n < buf.length && queue.length > 0) {
      const chunk = queue[0];
      const k = Math.min(buf.length - n, chunk.length - head);
      buf.set(head === 0 && k === chunk.length ? chunk : chunk.subarray(head, head + k), n);
      n += k;
      head += k;
      if (head === chunk.length) {
        queue.shift();
        head = 0;
      }
    }
    queued -= n;
    gate?.release();
    unhold();
    return n;
  };
  let drain: Promise<void> | null = null;
  // Encrypted bytes waiting to go out: in the JavaScript transport, else in the stream.
  const outbound = transport ?? s;
  const transportRoom = (): Promise<void> | null => {
    if (outbound.writableLength < MAX_PENDING || outbound.destroyed) return null;
    drain ??= new Promise<void>((resolve) => {
      const done = () => {
        outbound.off("drain", done);
        outbound.off("close", done);
        drain = null;
        resolve();
      };
      outbound.on("drain", done);
      outbound.on("close", done);
    });
    return drain;
  };
  return {
    async read(buf) {
      for (;;) {
        if (queued > 0) return take(buf);
        if (failure) throw failure;
        if (ended || s.destroyed) return null;
        if (transportEnded) {
          // Let the TLS layer finish with the last records it was given, then take them.
          await new Promise((r) => setTimeout(r, 0));
          if (queued > 0) continue;
          if (transport!.readableLength === 0) return null;
        }
        await until();
      }
    },
    async write(data) {
      if (failure) throw failure;
      if (s.destroyed || s.writableEnded) throw new Error("write on a closed TLS stream");
      await new Promise<void>((resolve, reject) => {
        s.write(data, (err?: Error | null) => err ? reject(err) : resolve());
      });
      const room = transportRoom();
      if (room) await room;
    },
    async closeWrite() {
      if (!s.destroyed && !s.writableEnded) await new Promise<void>((resolve) => s.end(() => resolve()));
      // The TLS socket sends close_notify but does not always end the stream beneath it: do
      // that here so that the peer sees the half-close.
      if (transport && !transport.destroyed && !transport.writableEnded) {
        await new Promise<void>((resolve) => transport.end(() => resolve()));
      }
    },
  };
}
