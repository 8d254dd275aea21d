/**
 * The `mws` listener: the `ws` listener's WebSocket connections carry smux sessions (one smux
 * frame per binary message; version 1 by default, as gost), one accepted connection per stream.
 * @module
 */
import { defineOptions } from "../core/options.ts";
import { muxOptionSchema } from "../protocol/smux/options.ts";
import { MuxListener, smuxServers } from "./mux.ts";
import type { ListenerFactory } from "./registry.ts";
import { createWsListener, wsListenerOptions } from "./ws.ts";

export const mwsListenerOptions = defineOptions({ ...wsListenerOptions.schema, ...muxOptionSchema(1) });

export const mwsListener: ListenerFactory = {
  options: mwsListenerOptions,
  create: (init, opts) =>
    new MuxListener(createWsListener(init, opts), smuxServers(opts, init.log), opts.backlog, init.log),
};
