/**
 * The `mtls` listener: the `tls` listener's connections carry smux sessions (version 1 by
 * default, as gost), one accepted connection per stream.
 * @module
 */
import { defineOptions } from "../core/options.ts";
import { muxOptionSchema } from "../protocol/smux/options.ts";
import { MuxListener, smuxServers } from "./mux.ts";
import type { ListenerFactory } from "./registry.ts";
import { createTlsListener, tlsListenerOptions } from "./tls.ts";

export const mtlsListenerOptions = defineOptions({ ...tlsListenerOptions.schema, ...muxOptionSchema(1) });

export const mtlsListener: ListenerFactory = {
  options: mtlsListenerOptions,
  create: (init, opts) =>
    new MuxListener(createTlsListener(init, opts), smuxServers(opts, init.log), opts.backlog, init.log),
};
