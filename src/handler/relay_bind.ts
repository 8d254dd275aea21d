/**
 * Relay BIND (server side, `bind=true`): the handler listens on the requested address and
 * hands inbound traffic back over the client's stream. TCP: the stream becomes a mux
 * session in which this server is the smux client, one stream per inbound connection,
 * each starting with a relay response naming the peer. UDP: datagrams travel in the
 * SOCKS5-style stream framing, each tagged with its remote peer.
 * @module
 */
import { bindAddr, formatAddr } from "../core/addr.ts";
import type { Duplex } from "../core/duplex.ts";
import { writeTo } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { BufferedReader } from "../core/buffered_reader.ts";
import type { HandlerContext, Network } from "../core/types.ts";
import { encodeResponse, Status } from "../protocol/relay/relay.ts";
import { relay } from "../core/relay.ts";
import { socketDuplex } from "../core/socket.ts";
import { type MuxOptions, smuxOptionsOf } from "../protocol/smux/options.ts";
import { SmuxSession } from "../protocol/smux/session.ts";
import type { HandlerInit } from "./registry.ts";
import { serveBoundUdp } from "./udp_tun.ts";

/** The mux options BIND sessions read: re-exported for the components that declare them. */
export { muxOptions } from "../protocol/smux/options.ts";

/** Serves a relay BIND on `conn` (the request has been read). */
export async function serveRelayBind(
  conn: Duplex,
  network: Network,
  addr: string,
  init: HandlerInit,
  opts: MuxOptions,
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

async function bindTCP(
  conn: Duplex,
  addr: string,
  _init: HandlerInit,
  opts: MuxOptions,
  ctx: HandlerContext,
): Promise<void> {
  let l: Deno.TcpListener;
  try {
    l = Deno.listen(bindAddr(addr));
  } catch (err) {
    await refuse(conn, Status.ServiceUnavailable);
    throw new Error(`relay: BIND tcp ${addr}: ${errorMessage(err)}`);
  }
  const bound = formatAddr(l.addr);
  ctx.log.info(`relay: bound tcp ${bound}`);
  await writeTo(conn, encodeResponse(Status.OK, [{ type: "addr", addr: bound }]));
  await serveMuxBind(conn, l, (peer) => encodeResponse(Status.OK, [{ type: "addr", addr: peer }]), opts, ctx);
}

/**
 * Serves a mux BIND (relay TCP BIND, SOCKS5 MBIND): `conn` becomes an smux session in
 * which this side opens one stream per connection accepted on `l`, starting with
 * `header(peer)` when given. Ends when the session ends (the client left).
 */
export async function serveMuxBind(
  conn: Duplex,
  l: Deno.TcpListener,
  header: ((peer: string) => Uint8Array) | null,
  opts: MuxOptions,
  ctx: HandlerContext,
): Promise<void> {
  const session = new SmuxSession(conn, { ...smuxOptionsOf(opts, true), log: ctx.log });
  const onAbort = () => session.close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  session.done.then(() => l.close(), () => l.close());
  // The client side opens no streams; refuse any it tries.
  (async () => {
    for (;;) {
      const s = await session.accept();
      if (!s) break;
      s.close();
    }
  })();
  let input = 0, output = 0;
  try {
    for (;;) {
      let peer: Deno.TcpConn;
      try {
        peer = await l.accept();
      } catch {
        break;
      }
      const inbound = socketDuplex(peer);
      (async () => {
        let stream: Duplex | undefined;
        try {
          stream = await session.openStream();
          if (header) await writeTo(stream, header(inbound.remote));
          ctx.log.debug(`bind: ${inbound.remote} <> ${inbound.local}`);
          const stats = await relay(stream, inbound, { signal: ctx.signal });
          input += stats.inputBytes;
          output += stats.outputBytes;
        } catch (err) {
          ctx.log.debug(`bind: ${inbound.remote}: ${errorMessage(err)}`);
        } finally {
          stream?.close();
          inbound.close();
        }
      })();
    }
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    session.close();
    try {
      l.close();
    } catch {
      // closed
    }
    ctx.record.inputBytes = input;
    ctx.record.outputBytes = output;
  }
}
