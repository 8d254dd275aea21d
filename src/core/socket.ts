/**
 * Wraps a Deno socket (`Deno.Conn`: TCP, TLS, Unix) as a {@link Duplex} with direct access, and
 * dials TCP into one.
 * @module
 */
import { type DirectIO, type Duplex, IODuplex } from "./duplex.ts";
import { dialHost, formatAddr, splitHostPort } from "./addr.ts";
import { DialError } from "./errors.ts";
import { deadline } from "./timeout.ts";

/** `Deno.Conn.write` may write only part of a buffer: loop until all of it is out. */
export async function writeAll(
  conn: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(off === 0 ? data : data.subarray(off));
}

/** The TCP connection under a direct I/O, for {@link tcpConnOf}. */
const tcpConns = new WeakMap<DirectIO, Deno.Conn>();
/** What a wrapper is beneath it, by side (see {@link passThrough}). */
interface Through {
  read?: () => DirectIO | undefined;
  write?: () => DirectIO | undefined;
}
const throughs = new WeakMap<DirectIO, Through>();

/**
 * The TCP connection that `io` reads from (`side` "read") or writes to ("write") with nothing in
 * between — no framing, no limiter, no bytes of its own still to hand out or to send first — or
 * undefined. What a copy may splice (core/splice.ts).
 */
export function tcpConnOf(io: DirectIO, side: "read" | "write"): Deno.Conn | undefined {
  for (let i: DirectIO | undefined = io, hops = 0; i && hops < 8; hops++) {
    const conn = tcpConns.get(i);
    if (conn) return conn;
    i = throughs.get(i)?.[side]?.();
  }
  return undefined;
}

/**
 * Declares that reading from (or writing to) `wrapper` is reading from (writing to) the I/O the
 * function returns, whenever it returns one: e.g. once a prefix has been read, or a header sent.
 */
export function passThrough(wrapper: DirectIO, through: Through): void {
  throughs.set(wrapper, through);
}

/** Direct I/O over a Deno connection. */
export function connIO(conn: Deno.Conn): DirectIO {
  const io: DirectIO = {
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
  // Plain TCP only: a TLS connection's bytes are records, not the stream.
  if (conn.remoteAddr.transport === "tcp" && !("handshake" in conn)) tcpConns.set(io, conn);
  return io;
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

/** Default time allowed to establish a TCP connection. */
export const DEFAULT_DIAL_TIMEOUT = 10_000;

/** Connects to `addr` (`host:port`; an empty host means the local host). */
export async function dialTCP(
  addr: string,
  opts: { timeout?: number; signal?: AbortSignal; keepAlive?: boolean } = {},
): Promise<Duplex> {
  const { host, port } = splitHostPort(addr);
  const timeout = opts.timeout ?? DEFAULT_DIAL_TIMEOUT;
  let conn: Deno.TcpConn;
  try {
    const p = Deno.connect({ hostname: dialHost(host), port, transport: "tcp", signal: opts.signal });
    conn = await deadline(p, timeout, "connect");
  } catch (err) {
    throw new DialError(addr, err);
  }
  try {
    conn.setNoDelay(true);
    if (opts.keepAlive) conn.setKeepAlive(true);
  } catch {
    // not fatal: only latency of small writes, or dead peers noticed later
  }
  return socketDuplex(conn);
}
