/**
 * Binding a TCP port the way every stream listener (tcp, tls, ws, …) does.
 * @module
 */
import { listenHost, splitHostPort } from "./addr.ts";
import { ListenError } from "./types.ts";

/** Binds `host:port` for TCP; an empty host listens on all interfaces (IPv6 and IPv4). */
export function listenTCP(addr: string, reusePort = false): Deno.TcpListener {
  const { host, port } = splitHostPort(addr);
  try {
    if (host === "") {
      try {
        return Deno.listen({ hostname: "::", port, reusePort });
      } catch (err) {
        if (err instanceof Deno.errors.AddrInUse) throw err;
      }
    }
    return Deno.listen({ hostname: listenHost(host), port, reusePort });
  } catch (err) {
    throw new ListenError(addr, err);
  }
}
