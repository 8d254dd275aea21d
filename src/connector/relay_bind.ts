/**
 * Relay BIND, client side: asks the relay server to listen and returns a {@link Listener}
 * whose connections (TCP: streams of the mux session the server opens; UDP: one datagram
 * duplex per remote peer) come from that far address.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import type { BindOptions, DialContext, Listener, Network } from "../core/types.ts";
import type { RelayConnector } from "./relay.ts";

/** Runs the BIND handshake on `conn` and serves the bound address as a listener. */
export function relayBind(
  _c: RelayConnector,
  _conn: Duplex,
  network: Network,
  addr: string,
  _ctx: DialContext,
  _opts?: BindOptions,
): Promise<Listener> {
  return Promise.reject(new Error(`relay BIND ${network} ${addr}: not available yet`));
}
