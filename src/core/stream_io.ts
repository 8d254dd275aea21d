/**
 * Socket-like access ({@link DirectIO}) to any duplex: its own `direct` path when it has
 * one, otherwise a reader and a writer over its streams. Protocol layers that wrap a stream
 * lazily (relay's coalesced header) build on this so that one implementation serves plain
 * sockets and tunnelled streams alike.
 * @module
 */
import type { DirectIO, Duplex } from "./duplex.ts";

/** Direct I/O over `d`: `d.direct` when present, else an adapter over its streams. */
export function directIO(d: Duplex): DirectIO {
  if (d.direct) return d.direct;
  const reader = d.readable.getReader();
  const writer = d.writable.getWriter();
  let rest: Uint8Array | null = null;
  return {
    async read(buf) {
      if (!rest) {
        const r = await reader.read();
        if (r.done) return null;
        rest = r.value;
      }
      const n = Math.min(buf.length, rest.length);
      buf.set(rest.subarray(0, n));
      rest = n < rest.length ? rest.subarray(n) : null;
      return n;
    },
    // The caller may reuse `data` once this resolves, and a stream may keep the chunk.
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
