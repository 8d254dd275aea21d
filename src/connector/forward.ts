/**
 * The `forward` connector: speaks no protocol. The node's server decides where bytes go
 * (its own targets), so the requested address is ignored.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { defineOptions } from "../core/options.ts";
import type { Connector, Network } from "../core/types.ts";
import type { ConnectorFactory } from "./registry.ts";

/** Passes the stream through unchanged. */
export class ForwardConnector implements Connector {
  connect(conn: Duplex, network?: Network): Promise<Duplex> {
    // Datagrams written into a byte stream would run together: only a datagram channel
    // (a udp dialer) can carry UDP without a proxy protocol framing it.
    if (network === "udp" && !conn.datagram) {
      return Promise.reject(
        new Error(
          "a forward node cannot carry UDP over a stream channel (end the chain with relay, socks5 or http with udp=true)",
        ),
      );
    }
    return Promise.resolve(conn);
  }
}

export const forwardConnector: ConnectorFactory = {
  options: defineOptions({}),
  create: () => new ForwardConnector(),
};
