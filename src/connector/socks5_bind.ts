/**
 * SOCKS5 BIND, client side (rtcp/rudp through a SOCKS5 node with `bind=true`): TCP uses
 * GOST's MBIND (0xF2, a mux session of inbound connections), UDP uses 0xF3 with a port.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import type { BindOptions, DialContext, Listener, Network } from "../core/types.ts";
import type { Socks5Connector } from "./socks5.ts";

/** Runs the BIND handshake on `conn` and serves the bound address as a listener. */
export function socks5Bind(
  _c: Socks5Connector,
  _conn: Duplex,
  network: Network,
  addr: string,
  _ctx: DialContext,
  _opts?: BindOptions,
): Promise<Listener> {
  return Promise.reject(new Error(`socks5 BIND ${network} ${addr}: not available yet`));
}
