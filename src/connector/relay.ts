/**
 * The `relay` connector: GOST's relay protocol client. With `nodelay=false` (the default)
 * the request rides with the first payload and the response is read on the first read;
 * with `nodelay=true` the handshake completes before `connect` returns, so protocols where
 * the server speaks first work.
 * @module
 */
import { BufferedReader } from "../core/buffered_reader.ts";
import { framedDatagrams, lengthPrefixCodec } from "../core/datagram_stream.ts";
import { type Duplex, writeTo } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import type { BindOptions, Connector, DialContext, Listener, Network } from "../core/types.ts";
import { muxOptions } from "../handler/relay_bind.ts";
import { lazyHandshake } from "../protocol/relay/conn.ts";
import { CMD_CONNECT, encodeRequest, type Feature, readRelayResponse } from "../protocol/relay/relay.ts";
import { relayBind } from "./relay_bind.ts";
import type { ConnectorFactory, ConnectorInit } from "./registry.ts";

export const relayConnectorOptions = defineOptions({
  nodelay: opt.bool("nodelay", false),
  connectTimeout: opt.duration(["connectTimeout", "timeout"], 15_000),
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
    if (!this.opts.nodelay) {
      if (network === "udp") {
        return framedDatagrams(conn, lengthPrefixCodec, { writePrefix: request, beforeRead: check });
      }
      return lazyHandshake(conn, request, check);
    }
    await writeTo(conn, request);
    const r = new BufferedReader(conn);
    await deadline(check(r), this.opts.connectTimeout, `relay handshake with ${node}`, () => conn.close());
    if (network === "udp") return framedDatagrams(conn, lengthPrefixCodec, { reader: r });
    return r.release();
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
