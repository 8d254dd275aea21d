/**
 * SOCKS5 BIND, client side (rtcp/rudp through a SOCKS5 node with `bind=true`): TCP uses
 * GOST's MBIND (0xF2): an smux session where the server opens one stream per inbound
 * connection, each starting with a reply naming the peer; UDP uses 0xF3 with the port.
 * @module
 */
import type { BufferedReader } from "../core/buffered_reader.ts";
import type { Duplex } from "../core/duplex.ts";
import type { BindOptions, DialContext, Listener, Network } from "../core/types.ts";
import type { MuxOptions } from "../protocol/smux/options.ts";
import { Cmd, readRequest } from "../protocol/socks5/socks5.ts";
import { bindRequestAddr, muxBindListener, UdpBindListener } from "./bind_listener.ts";

/**
 * What BIND needs of the socks5 connector: its node, its mux and timeout options, and its
 * handshake (declared here so that this file does not import the connector that imports it).
 */
export interface Socks5Requester {
  readonly init: { readonly nodeAddr: string };
  readonly opts: MuxOptions & { readonly timeout: number };
  request(conn: Duplex, cmd: number, addr: string): Promise<{ bound: string; reader: BufferedReader }>;
}

/** Runs the BIND handshake on `conn` and serves the bound address as a listener. */
export async function socks5Bind(
  c: Socks5Requester,
  conn: Duplex,
  network: Network,
  addr: string,
  ctx: DialContext,
  opts?: BindOptions,
): Promise<Listener> {
  const node = c.init.nodeAddr;
  const want = bindRequestAddr(addr);
  if (network === "udp") {
    if (want.endsWith(":0")) {
      throw new Error(`socks5 node ${node}: UDP BIND needs a port (got ${addr || "none"})`);
    }
    const { bound, reader } = await c.request(conn, Cmd.UdpTun, want);
    ctx.log.info(`socks5: node ${node} bound udp ${bound}`);
    return new UdpBindListener(conn, reader, bound, opts);
  }
  const { bound, reader } = await c.request(conn, Cmd.MuxBind, want);
  ctx.log.info(`socks5: node ${node} bound tcp ${bound}`);
  return muxBindListener(
    reader.release(),
    c.opts,
    bound,
    async (r) => {
      const rep = await readRequest(r, "socks5 bind reply");
      if (rep.code !== 0) throw new Error(`socks5 bind stream refused (${rep.code})`);
      return rep.addr;
    },
    ctx,
    c.opts.timeout,
  );
}
