/**
 * The `socks5` connector (also `socks`): no-auth or username/password, CONNECT, and UDP via
 * GOST's UDP-over-TCP command 0xF3. GOST's private TLS methods (0x80/0x82) are never offered:
 * every stream this runs over can be TLS already (`socks5+tls://`), so the offer is always
 * the `notls=true` one: `05 01 00`, or `05 02 00 02` with credentials.
 * @module
 */
import { BufferedReader } from "../core/buffered_reader.ts";
import { concat } from "../core/bytes.ts";
import { framedDatagrams } from "../core/datagram_stream.ts";
import { type Duplex, writeTo } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import type { BindOptions, Connector, DialContext, Listener, Network } from "../core/types.ts";
import {
  Cmd,
  encodeMethods,
  encodeRequest,
  encodeUserPass,
  Method,
  readRequest,
  replyText,
  USERPASS_OK,
  VERSION,
} from "../protocol/socks5/socks5.ts";
import { muxOptions } from "../protocol/smux/options.ts";
import { streamFrameCodec } from "../protocol/socks5/udp.ts";
import type { ConnectorFactory, ConnectorInit } from "./registry.ts";
import { socks5Bind } from "./socks5_bind.ts";

export const socks5ConnectorOptions = defineOptions({
  timeout: opt.duration(["timeout", "connectTimeout"], 15_000),
  notls: opt.ignored("notls", "gost's TLS methods 0x80/0x82 are never offered; use socks5+tls for TLS"),
  relay: opt.ignored("relay", "UDP always goes over the stream (GOST's 0xF3), never a UDP ASSOCIATE relay"),
  udpBufferSize: opt.ignored(
    ["udpBufferSize", "udp.bufferSize"],
    "datagrams are relayed whole (up to 64 KiB), not cut to a buffer size",
  ),
  udpTimeout: opt.ignored("udp.timeout", "a UDP tunnel lasts as long as its stream"),
  ...muxOptions,
});

export type Socks5ConnectorOptions = Options<typeof socks5ConnectorOptions.schema>;

/** Speaks SOCKS5 to a node. */
export class Socks5Connector implements Connector {
  constructor(readonly init: ConnectorInit, readonly opts: Socks5ConnectorOptions) {}

  /**
   * Negotiates and sends `cmd addr`; returns the reply's bound address and a reader holding
   * anything after it. The request is pipelined behind the greeting (or the credentials):
   * the server has no other choice to make, so this saves a round trip.
   */
  async request(conn: Duplex, cmd: number, addr: string): Promise<{ bound: string; reader: BufferedReader }> {
    const node = this.init.nodeAddr;
    const a = this.init.auth;
    const withAuth = !!a && !!(a.username || a.password);
    const req = encodeRequest(cmd, addr);
    const r = new BufferedReader(conn);
    const run = async () => {
      if (withAuth) {
        await writeTo(conn, encodeMethods([Method.NoAuth, Method.UserPass]));
      } else {
        await writeTo(conn, concat([encodeMethods([Method.NoAuth]), req]));
      }
      const sel = await r.readExact(2, "socks5 method selection");
      if (sel[0] !== VERSION) throw new Error(`socks5 node ${node}: bad version ${sel[0]}`);
      if (sel[1] === Method.UserPass && withAuth) {
        await writeTo(conn, concat([encodeUserPass(a!.username ?? "", a!.password ?? ""), req]));
        const st = await r.readExact(2, "socks5 authentication");
        if (st[1] !== USERPASS_OK) throw new Error(`socks5 node ${node}: authentication failed`);
      } else if (sel[1] === Method.NoAuth) {
        if (withAuth) await writeTo(conn, req);
      } else if (sel[1] === Method.NoAcceptable) {
        throw new Error(
          `socks5 node ${node}: no acceptable authentication method${
            withAuth ? "" : " (credentials needed?)"
          }`,
        );
      } else {
        throw new Error(`socks5 node ${node}: server chose unsupported method 0x${sel[1].toString(16)}`);
      }
      const rep = await readRequest(r, "socks5 reply");
      if (rep.code !== 0) {
        const hint = cmd === Cmd.UdpTun && rep.code === 0x02
          ? (addr.endsWith(":0")
            ? "; UDP needs udp=true on that node"
            : "; BIND needs bind=true on that node")
          : cmd === Cmd.MuxBind && rep.code === 0x02
          ? "; BIND needs bind=true on that node"
          : "";
        throw new Error(`socks5 node ${node}: ${replyText(rep.code)} (${addr})${hint}`);
      }
      return rep.addr;
    };
    const bound = await deadline(
      run(),
      this.opts.timeout,
      `socks5 handshake with ${node}`,
      () => conn.close(),
    );
    return { bound, reader: r };
  }

  async connect(conn: Duplex, network: Network, addr: string, _ctx: DialContext): Promise<Duplex> {
    if (!addr) throw new Error(`socks5 node ${this.init.nodeAddr}: a target address is required`);
    if (network === "udp") {
      const { reader } = await this.request(conn, Cmd.UdpTun, "0.0.0.0:0");
      return framedDatagrams(conn, streamFrameCodec(addr), { reader });
    }
    const { reader } = await this.request(conn, Cmd.Connect, addr);
    return reader.release();
  }

  bind(
    conn: Duplex,
    network: Network,
    addr: string,
    ctx: DialContext,
    opts?: BindOptions,
  ): Promise<Listener> {
    return socks5Bind(this, conn, network, addr, ctx, opts);
  }
}

export const socks5Connector: ConnectorFactory = {
  options: socks5ConnectorOptions,
  create: (init: ConnectorInit, opts: Socks5ConnectorOptions) => new Socks5Connector(init, opts),
};
