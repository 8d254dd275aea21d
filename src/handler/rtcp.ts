/**
 * The `rtcp` handler: each inbound connection of a remote TCP forward (which came through
 * the listener's tunnel, or was accepted locally without a chain) goes to one of the
 * service's targets, through `handler.chain` when there is one.
 * @module
 */
import { forwardHandlerOptions, LocalForwardHandler } from "./forward.ts";
import type { HandlerFactory } from "./registry.ts";

export const rtcpHandler: HandlerFactory = {
  options: forwardHandlerOptions,
  create: (init) => new LocalForwardHandler("tcp", init.router, init.forwarder),
};
