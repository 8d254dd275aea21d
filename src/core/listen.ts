/**
 * Binding a TCP port the way every stream listener (tcp, tls, ws, …) does.
 * @module
 */
import { listenHost, splitHostPort } from "./addr.ts";
import { ListenError } from "./types.ts";

/**
 * Binds `host:port` for TCP; an empty host listens on all interfaces (IPv6 and IPv4). `bind`
 * makes the listener (`Deno.listen`, or `Deno.listenTls` with its options added).
 */
export function listenTCP<L = Deno.TcpListener>(
  addr: string,
  reusePort = false,
  bind: (opts: Deno.TcpListenOptions) => L = Deno.listen as (opts: Deno.TcpListenOptions) => L,
): L {
  const { host, port } = splitHostPort(addr);
  try {
    if (host === "") {
      try {
        return bind({ hostname: "::", port, reusePort });
      } catch (err) {
        if (err instanceof Deno.errors.AddrInUse) throw err;
      }
    }
    return bind({ hostname: listenHost(host), port, reusePort });
  } catch (err) {
    throw new ListenError(addr, err);
  }
}

/** What an accept loop needs of a listener (a `Deno.Listener`, or a wrapper of one). */
export type AcceptingSocket = Pick<Deno.Listener, "accept" | "addr" | "close">;
