/**
 * The `relay` connector: GOST's relay protocol client. With `nodelay=false` (the default)
 * the request rides with the first payload, or goes alone after `headerDelay` when the client
 * only reads (server-first protocols); with `nodelay=true` it goes at once. Either way the
 * response is read on the first read and data flows before it arrives, so no combination of
 * client and server `nodelay` hangs, unlike gost.
 * @module
 */
import { BufferedReader } from "../core/buffered_reader.ts";
import { framedDatagrams, lengthPrefixCodec } from "../core/datagram_stream.ts";
import { type Duplex, writeTo } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import type { BindOptions, Connector, DialContext, Listener, Network } from "../core/types.ts";
import { muxOptions } from "../handler/relay_bind.ts";
import { lazyHandshake } from "../protocol/relay/conn.ts";
import { CMD_CONNECT, encodeRequest, type Feature, readRelayResponse } from "../protocol/relay/relay.ts";
import { relayBind } from "./relay_bind.ts";
import type { ConnectorFactory, ConnectorInit } from "./registry.ts";

export const relayConnectorOptions = defineOptions({
  nodelay: opt.bool("nodelay", false),
  connectTimeout: opt.duration(["connectTimeout", "timeout"], 15_000),
  /**
   * Without nodelay: how long after its first read a client that has written nothing (a
   * server-first protocol: SSH, SMTP, FTP) waits before the request goes alone; 0 holds it
   * until the client writes, as gost does. Measured: a local client-first client's first byte
   * came 0.04-1.2 ms after that read (curl direct, via an http and a socks5 entry, load 8 on 2
   * cores); when the delay does run out first, the request and the server's OK go as writes of
   * their own: +2% CPU per connection (nodelay=true vs false, 64 parallel, three interleaved
   * runs, -2..+6%) and no added latency. The delay itself is added to every banner, and the
   * timer costs nothing measurable (headerDelay=0 vs 50 ms). 50 ms is 40 times the slowest local
   * first byte, covers remote clients behind an http/socks entry up to a 50 ms round trip, and
   * stays well under what a person notices on a banner.
   */
  headerDelay: opt.duration("headerDelay", 50),
  ...muxOptions,
});

export type RelayConnectorOptions = Options<typeof relayConnectorOptions.schema>;

/** Speaks relay to a node. */
export class RelayConnector implements Connector {
  constructor(readonly init: ConnectorInit, readonly opts: RelayConnectorOptions) {}

  /** The UserAuth feature for this node, when it has credentials. */
  authFeatures(): Feature[] {
    const a = this.init.auth;
    if (!a || (!a.username && !a.password)) return [];
    return [{ type: "userAuth", username: a.username ?? "", password: a.password ?? "" }];
  }

  async connect(conn: Duplex, network: Network, addr: string, _ctx: DialContext): Promise<Duplex> {
    const features: Feature[] = [];
    if (network === "udp") features.push({ type: "network", network: "udp" });
    features.push(...this.authFeatures());
    if (addr) features.push({ type: "addr", addr });
    const request = encodeRequest({ cmd: CMD_CONNECT, udp: network === "udp", features });
    const node = this.init.nodeAddr;
    const check = async (r: BufferedReader) => {
      await readRelayResponse(r, node);
    };
    // With nodelay=true the request goes now, but the response is still read lazily (unlike
    // gost, which waits for it here): a server that holds its OK until the target speaks would
    // otherwise deadlock a client-first protocol.
    if (this.opts.nodelay) await writeTo(conn, request);
    const held = this.opts.nodelay ? null : request;
    if (network === "udp") {
      return framedDatagrams(conn, lengthPrefixCodec, { writePrefix: held ?? undefined, beforeRead: check });
    }
    return lazyHandshake(conn, held, check, this.opts.headerDelay);
  }

  bind(
    conn: Duplex,
    network: Network,
    addr: string,
    ctx: DialContext,
    opts?: BindOptions,
  ): Promise<Listener> {
    return relayBind(this, conn, network, addr, ctx, opts);
  }
}

export const relayConnector: ConnectorFactory = {
  options: relayConnectorOptions,
  create: (init: ConnectorInit, opts: RelayConnectorOptions) => new RelayConnector(init, opts),
};
