/**
 * A datagram duplex to one UDP destination (what the `udp` handler forwards to directly).
 * @module
 */
import { dialHost, splitHostPort } from "../core/addr.ts";
import { type Duplex, streamDuplex } from "../core/duplex.ts";
import { DialError } from "../core/errors.ts";
import { formatAddr } from "../core/addr.ts";
import type { Dialer } from "../core/types.ts";

/** The largest datagram we read. */
const MAX_DATAGRAM = 65536;

/** Binds an ephemeral UDP socket on all interfaces (dual stack when the host has IPv6). */
export function bindEphemeralUDP(): Deno.DatagramConn {
  try {
    return Deno.listenDatagram({ hostname: "::", port: 0, transport: "udp" });
  } catch {
    return Deno.listenDatagram({ hostname: "0.0.0.0", port: 0, transport: "udp" });
  }
}

/**
 * Opens a UDP "connection" to `addr`: each chunk written is one datagram sent there, each
 * chunk read is one datagram received from that port.
 */
export function dialUDP(addr: string): Promise<Duplex> {
  const { host, port } = splitHostPort(addr);
  let sock: Deno.DatagramConn;
  try {
    sock = bindEphemeralUDP();
  } catch (err) {
    return Promise.reject(new DialError(addr, err));
  }
  const to: Deno.NetAddr = { transport: "udp", hostname: dialHost(host), port };
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      sock.close();
    } catch {
      // already closed
    }
  };
  // One receive buffer per socket; each datagram is copied out at its own size.
  const buf = new Uint8Array(MAX_DATAGRAM);
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let got: [Uint8Array, Deno.Addr];
        try {
          got = await sock.receive(buf);
        } catch (err) {
          if (closed) return controller.close();
          throw err;
        }
        const [data, from] = got;
        // Like a connected UDP socket: only the destination's port is heard.
        if ((from as Deno.NetAddr).port !== port) continue;
        controller.enqueue(data.slice());
        return;
      }
    },
    cancel: close,
  }, { highWaterMark: 0 });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      await sock.send(chunk, to);
    },
    close,
    abort: close,
  });
  return Promise.resolve(streamDuplex({
    readable,
    writable,
    close,
    local: formatAddr(sock.addr),
    remote: addr,
    datagram: true,
  }));
}

/**
 * The `udp` dialer: a datagram duplex to the node (ssu nodes, UDP through a chain's first
 * hop); its handshake does nothing.
 */
export class UdpDialer implements Dialer {
  readonly network = "udp" as const;
  dial(addr: string): Promise<Duplex> {
    return dialUDP(addr);
  }
  handshake(conn: Duplex): Promise<Duplex> {
    return Promise.resolve(conn);
  }
}
