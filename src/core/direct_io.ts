/**
 * Socket-like access to any duplex: its own direct path when it has one, otherwise a
 * read-into-buffer adapter over its Web Streams. Channel layers that frame bytes (WebSocket,
 * TLS through `node:tls`) are written once against {@link DirectIO} and so run both on a plain
 * socket and inside a tunnel opened by earlier hops.
 * @module
 */
import type { DirectIO, Duplex } from "./duplex.ts";

/** The duplex's direct path, or one built over its streams (which it then owns). */
export function directIO(d: Duplex): DirectIO {
  return d.direct ?? streamIO(d.readable, d.writable);
}

/** The writing side of a {@link DirectIO}. */
export type WriteHalf = Pick<DirectIO, "write" | "closeWrite">;

/**
 * The write half of `d` for a layer whose reads go through a reader of its own (a
 * `BufferedReader`): `d`'s direct path while it has one, else a writer on its stream. Unlike
 * {@link streamIO}, a write hands the stream `data` itself, so it must not be reused.
 */
export function writeHalf(d: Duplex): WriteHalf {
  if (d.direct) return d.direct;
  const w = d.writable.getWriter();
  return {
    write: (data) => w.write(data),
    closeWrite: () => w.close().catch(() => {}),
  };
}

/** {@link DirectIO} over a pair of Web Streams. */
export function streamIO(
  readable: ReadableStream<Uint8Array>,
  writable: WritableStream<Uint8Array>,
): DirectIO {
  const reader = readable.getReader();
  const writer = writable.getWriter();
  let pending: Uint8Array | null = null;
  return {
    async read(buf) {
      if (!pending) {
        const r = await reader.read();
        if (r.done) return null;
        pending = r.value;
      }
      const n = Math.min(buf.length, pending.length);
      buf.set(n === pending.length ? pending : pending.subarray(0, n));
      pending = n < pending.length ? pending.subarray(n) : null;
      return n;
    },
    // The caller may reuse `data` as soon as this resolves, and a stream may hold on to a
    // chunk: hand it a copy.
    write: (data) => writer.write(data.slice()),
    async closeWrite() {
      try {
        await writer.close();
      } catch {
        // already closed or errored: nothing left to half-close
      }
    },
  };
}
