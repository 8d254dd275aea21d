/**
 * SOCKS5 BIND, client side (rtcp/rudp through a SOCKS5 node with `bind=true`): TCP uses
 * GOST's MBIND (0xF2): an smux session where the server opens one stream per inbound
 * connection, each starting with a reply naming the peer; UDP uses 0xF3 with the port.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import type { BindOptions, DialContext, Listener, Network } from "../core/types.ts";
import { Cmd, readRequest } from "../protocol/socks5/socks5.ts";
import { bindRequestAddr, muxBindListener, UdpBindListener } from "./bind_listener.ts";
import type { Socks5Connector } from "./socks5.ts";

/** Runs the BIND handshake on `conn` and serves the bound address as a listener. */
export async function socks5Bind(
  c: Socks5Connector,
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
