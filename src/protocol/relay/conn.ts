/**
 * The relay protocol's lazy handshakes over a stream: with `nodelay=false` the client holds
 * its request until the first payload and reads the response on its first read, and the
 * server holds its OK response until the first bytes it sends back. Both keep the stream's
 * direct path, so a relay over a plain socket still runs the fast copy loop.
 * @module
 */
import { BufferedReader, prependIO } from "../../core/buffered_reader.ts";
import { type DirectIO, type Duplex, IODuplex } from "../../core/duplex.ts";
import { concat } from "../../core/bytes.ts";
import { directIO } from "../../core/direct_io.ts";

/** I/O whose first write (or half-close) carries `head` in front. */
function headIO(io: DirectIO, head: Uint8Array): DirectIO & { flush(): Promise<void> } {
  let pending: Uint8Array | null = head;
  const take = () => {
    const h = pending;
    pending = null;
    return h;
  };
  return {
    read: (buf) => io.read(buf),
    write(data) {
      const h = take();
      return io.write(h ? concat([h, data]) : data);
    },
    async closeWrite() {
      const h = take();
      if (h) await io.write(h);
      await io.closeWrite();
    },
    async flush() {
      const h = take();
      if (h) await io.write(h);
    },
  };
}

/** `conn` with `head` sent in front of the first bytes written to it. */
export function headOnFirstWrite(conn: Duplex, head: Uint8Array): Duplex {
  return new IODuplex(headIO(directIO(conn), head), () => conn.close(), conn.local, conn.remote);
}

/**
 * `conn` as a relay client sees it with a lazy handshake: `request` goes out with the first
 * write, and the first read first runs `readResponse` (which throws on a refusal); bytes the
 * server sent after its response are delivered, not lost.
 */
export function lazyHandshake(
  conn: Duplex,
  request: Uint8Array,
  readResponse: (r: BufferedReader) => Promise<void>,
): Duplex {
  const io = headIO(directIO(conn), request);
  let ready: Promise<DirectIO> | null = null;
  const start = () =>
    ready ??= (async () => {
      const r = new BufferedReader(new IODuplex(io, () => conn.close()));
      await readResponse(r);
      return prependIO(io, r.takeBuffered());
    })();
  const lazy: DirectIO = {
    read: async (buf) => (await start()).read(buf),
    write: (d) => io.write(d),
    closeWrite: () => io.closeWrite(),
  };
  return new IODuplex(lazy, () => conn.close(), conn.local, conn.remote);
}
