/**
 * Relay BIND (server side, `bind=true`): the handler listens on the requested address and
 * hands inbound traffic back over the client's stream. TCP: the stream becomes a mux
 * session in which this server is the smux client, one stream per inbound connection,
 * each starting with a relay response naming the peer. UDP: datagrams travel in the
 * SOCKS5-style stream framing, each tagged with its remote peer.
 * @module
 */
import { formatAddr, listenHost, splitHostPort } from "../core/addr.ts";
import type { Duplex } from "../core/duplex.ts";
import { writeTo } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { opt } from "../core/options.ts";
import { BufferedReader } from "../core/buffered_reader.ts";
import type { HandlerContext, Network } from "../core/types.ts";
import { encodeResponse, Status } from "../protocol/relay/relay.ts";
import type { HandlerInit } from "./registry.ts";
import { serveBoundUdp } from "./udp_tun.ts";

/** The mux options BIND sessions read (gost's `mux.*`). */
export const muxOptions = {
  muxVersion: opt.int("mux.version", 1, { min: 1, max: 2 }),
  muxKeepaliveInterval: opt.duration("mux.keepaliveInterval", 10_000),
  muxKeepaliveDisabled: opt.bool("mux.keepaliveDisabled", false),
  muxKeepaliveTimeout: opt.duration("mux.keepaliveTimeout", 30_000),
  muxMaxFrameSize: opt.int("mux.maxFrameSize", 32768, { min: 1024, max: 65535 }),
  muxMaxReceiveBuffer: opt.int("mux.maxReceiveBuffer", 4194304, { min: 1024 }),
  muxMaxStreamBuffer: opt.int("mux.maxStreamBuffer", 65536, { min: 1024 }),
};

interface BindOpts {
  muxVersion: number;
  muxKeepaliveInterval: number;
  muxKeepaliveDisabled: boolean;
  muxKeepaliveTimeout: number;
  muxMaxFrameSize: number;
  muxMaxReceiveBuffer: number;
  muxMaxStreamBuffer: number;
}

/** The address to bind for a BIND request ("" or ":port" mean all interfaces). */
export function bindAddr(addr: string): { hostname: string; port: number } {
  if (!addr) return { hostname: "0.0.0.0", port: 0 };
  const { host, port } = splitHostPort(addr);
  return { hostname: listenHost(host), port };
}

/** Serves a relay BIND on `conn` (the request has been read). */
export async function serveRelayBind(
  conn: Duplex,
  network: Network,
  addr: string,
  init: HandlerInit,
  opts: BindOpts,
  ctx: HandlerContext,
): Promise<void> {
  if (network === "udp") return await bindUDP(conn, addr, ctx);
  return await bindTCP(conn, addr, init, opts, ctx);
}

async function refuse(conn: Duplex, status: number) {
  try {
    await writeTo(conn, encodeResponse(status));
  } catch {
    // the client left
  }
  conn.close();
}

async function bindUDP(conn: Duplex, addr: string, ctx: HandlerContext): Promise<void> {
  let sock: Deno.DatagramConn;
  try {
    sock = Deno.listenDatagram({ ...bindAddr(addr), transport: "udp" });
  } catch (err) {
    await refuse(conn, Status.ServiceUnavailable);
    throw new Error(`relay: BIND udp ${addr}: ${errorMessage(err)}`);
  }
  const bound = formatAddr(sock.addr);
  ctx.log.info(`relay: bound udp ${bound}`);
  const ok = encodeResponse(Status.OK, [{ type: "addr", addr: bound }]);
  await serveBoundUdp(conn, new BufferedReader(conn), sock, ok, ctx);
}

// deno-lint-ignore require-await
async function bindTCP(
  conn: Duplex,
  addr: string,
  _init: HandlerInit,
  _opts: BindOpts,
  _ctx: HandlerContext,
): Promise<void> {
  refuse(conn, Status.ServiceUnavailable);
  throw new Error(`relay: BIND tcp ${addr}: not available yet`);
}
