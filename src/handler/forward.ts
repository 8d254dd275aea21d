/**
 * Local port forwarding: the `tcp`, `udp` and `forward` handlers send every connection to
 * one of the service's targets (through the handler's chain when there is one).
 * @module
 */
import { dialTarget, type Forwarder } from "../chain/forwarder.ts";
import type { Duplex } from "../core/duplex.ts";
import { defineOptions, opt } from "../core/options.ts";
import { relayRecorded } from "../core/relay.ts";
import type { Handler, HandlerContext, Network, Router } from "../core/types.ts";
import type { HandlerFactory, HandlerInit } from "./registry.ts";

export const forwardHandlerOptions = defineOptions({
  readTimeout: opt.ignored("readTimeout", "forwarding reads nothing from the client before dialing"),
  hash: opt.ignored("hash", "chain nodes are not picked by a hash of the target here"),
});

/** Forwards each connection to a target; `network` decides TCP or UDP on the far side. */
export class LocalForwardHandler implements Handler {
  constructor(
    readonly network: Network | "auto",
    readonly router: Router,
    readonly forwarder: Forwarder | undefined,
  ) {}

  async handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    const network: Network = this.network === "auto" ? (conn.datagram ? "udp" : "tcp") : this.network;
    // Without targets the address is empty: only a chain whose last node decides can serve
    // (forward connector, relay forward mode).
    const target = await dialTarget(this.router, this.forwarder, network, "", conn, ctx);
    ctx.log.debug(`${conn.remote} <-> ${ctx.record.dst}`);
    await relayRecorded(conn, target, ctx);
  }
}

function factory(network: Network | "auto"): HandlerFactory {
  return {
    options: forwardHandlerOptions,
    create(init: HandlerInit) {
      return new LocalForwardHandler(network, init.router, init.forwarder);
    },
  };
}

/** `tcp`: TCP port forwarding. */
export const tcpHandler: HandlerFactory = factory("tcp");
/** `udp`: UDP port forwarding, one channel per client. */
export const udpHandler: HandlerFactory = factory("udp");
/** `forward`: server-side forwarding over any listener (TCP, or UDP for datagram listeners). */
export const forwardHandler: HandlerFactory = factory("auto");
