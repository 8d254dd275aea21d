/**
 * Relay BIND, client side: asks the relay server to listen and returns a {@link Listener}
 * whose connections come from that far address. TCP: the server opens one smux stream per
 * inbound connection (this side is the smux server), each starting with a relay response
 * naming the peer. UDP: one datagram duplex per remote peer.
 * @module
 */
import { BufferedReader } from "../core/buffered_reader.ts";
import { type Duplex, writeTo } from "../core/duplex.ts";
import { deadline } from "../core/timeout.ts";
import type { BindOptions, DialContext, Listener, Network } from "../core/types.ts";
import type { MuxOptions } from "../protocol/smux/options.ts";
import {
  CMD_BIND,
  encodeRequest,
  type Feature,
  findFeature,
  readRelayResponse,
} from "../protocol/relay/relay.ts";
import { bindRequestAddr, muxBindListener, UdpBindListener } from "./bind_listener.ts";

/** What a BIND needs of the relay connector (named here, so that this file need not import it). */
export interface RelayBindNode {
  readonly init: { readonly nodeAddr: string };
  readonly opts: MuxOptions & { readonly connectTimeout: number };
  /** The UserAuth feature for the node, when it has credentials. */
  authFeatures(): Feature[];
}

/** Runs the BIND handshake on `conn` and serves the bound address as a listener. */
export async function relayBind(
  c: RelayBindNode,
  conn: Duplex,
  network: Network,
  addr: string,
  ctx: DialContext,
  opts?: BindOptions,
): Promise<Listener> {
  const node = c.init.nodeAddr;
  const features: Feature[] = [
    ...c.authFeatures(),
    { type: "network", network },
    { type: "addr", addr: bindRequestAddr(addr) },
  ];
  await writeTo(conn, encodeRequest({ cmd: CMD_BIND, udp: network === "udp", features }));
  const r = new BufferedReader(conn);
  const got = await deadline(
    readRelayResponse(r, node),
    c.opts.connectTimeout,
    `relay BIND at ${node}`,
    () => conn.close(),
  );
  const bound = findFeature(got, "addr")?.addr ?? addr;
  ctx.log.info(`relay: node ${node} bound ${network} ${bound}`);
  if (network === "udp") return new UdpBindListener(conn, r, bound, opts);
  return muxBindListener(
    r.release(),
    c.opts,
    bound,
    async (sr) => {
      const f = await readRelayResponse(sr, node);
      return findFeature(f, "addr")?.addr ?? "";
    },
    ctx,
    c.opts.connectTimeout,
  );
}
