/**
 * Wraps a Deno socket (`Deno.Conn`: TCP, TLS, Unix) as a {@link Duplex} with direct access.
 * @module
 */
import { type DirectIO, IODuplex } from "./duplex.ts";
import { formatAddr } from "./addr.ts";

/** `Deno.Conn.write` may write only part of a buffer: loop until all of it is out. */
export async function writeAll(
  conn: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(off === 0 ? data : data.subarray(off));
}

/** Direct I/O over a Deno connection. */
export function connIO(conn: Deno.Conn): DirectIO {
  return {
    read: (buf) => conn.read(buf),
    write: (data) => writeAll(conn, data),
    async closeWrite() {
      try {
        await conn.closeWrite();
      } catch {
        // the socket is already gone: nothing left to half-close
      }
    },
  };
}

/** A duplex over a connected socket. */
export function socketDuplex(conn: Deno.Conn): IODuplex {
  return new IODuplex(
    connIO(conn),
    () => conn.close(),
    formatAddr(conn.localAddr),
    formatAddr(conn.remoteAddr),
  );
}
