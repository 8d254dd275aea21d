/**
 * The `rudp` handler: each peer session of a remote UDP forward goes to one of the
 * service's targets over UDP, through `handler.chain` when there is one.
 * @module
 */
import { forwardHandlerOptions, LocalForwardHandler } from "./forward.ts";
import type { HandlerFactory } from "./registry.ts";

export const rudpHandler: HandlerFactory = {
  options: forwardHandlerOptions,
  create: (init) => new LocalForwardHandler("udp", init.router, init.forwarder),
};
