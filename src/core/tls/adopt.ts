/**
 * A `node:net` socket over a TCP connection accepted by `Deno.listen`, so that the TLS server's
 * `node:tls` attaches its record layer to the socket natively instead of running over the Node
 * stream adapter (a JavaScript pump between TLS and the socket). Measured on serial handshakes
 * over loopback: 0.82 → 0.57 ms of server CPU per handshake.
 *
 * Deno internals (2.9.6): the connection's resource id (a symbol property of `Deno.Conn`) and
 * `TCPWrap.openFromRid`, reached through `process.binding("tcp_wrap")` (core/tcp_wrap.ts). The `Deno.Conn` keeps
 * owning the socket: closing it closes the socket, the Node socket's `destroy()` does not (checked),
 * so whoever closes the connection closes both. Accepting stays on `Deno.listen`, whose accept
 * loop survives running out of descriptors (`node:net`'s server stops accepting for good on
 * Deno 2.9.6 once an accept fails with EMFILE). Where an internal is missing, {@link adoptSocket}
 * returns undefined and the server uses the stream adapter.
 * @module
 */
import * as net from "node:net";
import { openTcpWrap } from "../tcp_wrap.ts";

/**
 * A Node socket on `conn`'s TCP handle (nothing read from `conn` yet), not half-open; undefined
 * when this Deno offers no way to make one or the binding is not loaded yet (`loadTcpWrap`).
 * Close `conn` to close it.
 */
export function adoptSocket(conn: Deno.Conn): net.Socket | undefined {
  const handle = openTcpWrap(conn);
  if (!handle) return undefined;
  try {
    const sock = new net.Socket({ handle, allowHalfOpen: false } as net.SocketConstructorOpts);
    // A socket without an error listener would take the process down with it.
    sock.on("error", () => {});
    return sock;
  } catch {
    handle.close(); // its duplicate descriptor
    return undefined;
  }
}
