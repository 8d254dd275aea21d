/**
 * SOCKS5 commands beyond CONNECT: standard BIND, UDP ASSOCIATE, and GOST's UDP BIND (0xF3
 * with a port) and MBIND (0xF2).
 * @module
 */
import { bindAddr, formatAddr, splitHostPort, unmapHost } from "../core/addr.ts";
import type { BufferedReader } from "../core/buffered_reader.ts";
import { type Duplex, writeTo } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { relayRecorded } from "../core/relay.ts";
import { encodeSocksAddr } from "../core/socks_addr.ts";
import { socketDuplex } from "../core/socket.ts";
import type { HandlerContext, Router } from "../core/types.ts";
import { encodeReply, Reply } from "../protocol/socks5/socks5.ts";
import { decodeDatagram, encodeDatagram } from "../protocol/socks5/udp.ts";
import type { MuxOptions } from "../protocol/smux/options.ts";
import { serveMuxBind as serveMux } from "./relay_bind.ts";
import { serveBoundUdp, UdpRelay } from "./udp_tun.ts";

async function fail(conn: Duplex, rep: number, why: string): Promise<never> {
  try {
    await writeTo(conn, encodeReply(rep));
  } catch {
    // the client left
  }
  conn.close();
  throw new Error(`socks5: ${why}`);
}

/** Standard BIND: listen, reply with the bound address, accept one peer, reply, relay. */
export async function serveBind(
  conn: Duplex,
  reader: BufferedReader,
  addr: string,
  ctx: HandlerContext,
  _timeout: number,
): Promise<void> {
  let l: Deno.TcpListener;
  try {
    l = Deno.listen(bindAddr(addr));
  } catch (err) {
    return await fail(conn, Reply.Failure, `BIND ${addr}: ${errorMessage(err)}`);
  }
  const client = reader.release();
  let peer: Deno.TcpConn;
  try {
    await writeTo(client, encodeReply(Reply.Succeeded, formatAddr(l.addr)));
    ctx.log.info(`socks5: bound tcp ${formatAddr(l.addr)}`);
    const onAbort = () => l.close();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      peer = await l.accept();
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
    }
  } catch (err) {
    client.close();
    throw new Error(`socks5: BIND ${addr}: ${errorMessage(err)}`);
  } finally {
    l.close();
  }
  const inbound = socketDuplex(peer);
  await writeTo(client, encodeReply(Reply.Succeeded, inbound.remote));
  await relayRecorded(client, inbound, ctx);
}

/** GOST UDP BIND (0xF3 with a port): a bound UDP port served over the stream. */
export async function serveUdpBind(
  conn: Duplex,
  reader: BufferedReader,
  addr: string,
  ctx: HandlerContext,
): Promise<void> {
  let sock: Deno.DatagramConn;
  try {
    sock = Deno.listenDatagram({ ...bindAddr(addr), transport: "udp" });
  } catch (err) {
    return await fail(conn, Reply.Failure, `UDP BIND ${addr}: ${errorMessage(err)}`);
  }
  const bound = formatAddr(sock.addr);
  ctx.log.info(`socks5: bound udp ${bound}`);
  await serveBoundUdp(conn, reader, sock, encodeReply(Reply.Succeeded, bound), ctx);
}

/** MBIND (0xF2): the stream becomes an smux session carrying inbound connections. */
export async function serveMuxBind(
  conn: Duplex,
  reader: BufferedReader,
  addr: string,
  ctx: HandlerContext,
  opts: MuxOptions & { comp: boolean },
): Promise<void> {
  let l: Deno.TcpListener;
  try {
    l = Deno.listen(bindAddr(addr));
  } catch (err) {
    return await fail(conn, Reply.Failure, `MBIND ${addr}: ${errorMessage(err)}`);
  }
  const bound = formatAddr(l.addr);
  ctx.log.info(`socks5: bound tcp ${bound} (mux)`);
  const client = reader.release();
  await writeTo(client, encodeReply(Reply.Succeeded, bound));
  // gost v2 clients (comp=true) expect the raw connection; v3 clients read a reply first.
  const header = opts.comp ? null : (peer: string) => encodeReply(Reply.Succeeded, peer);
  await serveMux(client, l, header, opts, ctx);
}

/**
 * Standard UDP ASSOCIATE: a UDP port on the interface the client reached; datagrams with
 * SOCKS5 headers from the client's host are relayed, until the TCP connection ends.
 */
export async function serveUdpAssociate(
  conn: Duplex,
  reader: BufferedReader,
  router: Router,
  ctx: HandlerContext,
): Promise<void> {
  ctx.record.network = "udp";
  const localHost = conn.local ? unmapHost(splitHostPort(conn.local).host) : "0.0.0.0";
  const clientHost = conn.remote ? unmapHost(splitHostPort(conn.remote).host) : "";
  let sock: Deno.DatagramConn;
  try {
    sock = Deno.listenDatagram({ hostname: localHost || "0.0.0.0", port: 0, transport: "udp" });
  } catch (err) {
    return await fail(conn, Reply.Failure, `UDP ASSOCIATE: ${errorMessage(err)}`);
  }
  const bound = formatAddr(sock.addr);
  let client: Deno.NetAddr | null = null;
  const udp = new UdpRelay(router, ctx, async (src, payload) => {
    if (client) await sock.send(encodeDatagram(encodeSocksAddr(src), payload), client);
  });
  const pump = (async () => {
    const buf = new Uint8Array(65535);
    for (;;) {
      const [data, from] = await sock.receive(buf);
      const f = from as Deno.NetAddr;
      // Only the client's host may use the association.
      if (clientHost && unmapHost(f.hostname) !== clientHost) continue;
      client ??= f;
      let d;
      try {
        d = decodeDatagram(data);
      } catch (err) {
        ctx.log.debug(`socks5: udp: ${errorMessage(err)}`);
        continue;
      }
      await udp.send(d.addr, d.payload.slice());
    }
  })().catch(() => {});
  try {
    await writeTo(conn, encodeReply(Reply.Succeeded, bound));
    ctx.log.debug(`socks5: udp associate on ${bound}`);
    // The association lives as long as the TCP connection: wait for its end.
    const onAbort = () => conn.close();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (await reader.fill()) reader.takeBuffered();
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
    }
  } catch {
    // the control connection ended
  } finally {
    udp.close();
    try {
      sock.close();
    } catch {
      // closed
    }
    conn.close();
    await pump;
    ctx.record.inputBytes = udp.inputBytes;
    ctx.record.outputBytes = udp.outputBytes;
  }
}
