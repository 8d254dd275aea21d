/**
 * The `mwss` listener: `mws` inside TLS (the `wss` listener's connections carry smux sessions,
 * version 1 by default), one accepted connection per stream.
 * @module
 */
import { defineOptions } from "../core/options.ts";
import { muxOptionSchema } from "../protocol/smux/options.ts";
import { MuxListener, smuxServers } from "./mux.ts";
import type { ListenerFactory } from "./registry.ts";
import { createWssListener, wssListenerOptions } from "./wss.ts";

export const mwssListenerOptions = defineOptions({ ...wssListenerOptions.schema, ...muxOptionSchema(1) });

export const mwssListener: ListenerFactory = {
  options: mwssListenerOptions,
  create: (init, opts) =>
    new MuxListener(createWssListener(init, opts), smuxServers(opts, init.log), opts.backlog, init.log),
};
