/**
 * The `mtcp` listener: smux directly on TCP (no handshake bytes before the first frame), one
 * accepted connection per stream. Defaults to smux version 2, as gost's mtcp does.
 * @module
 */
import { defineOptions, opt } from "../core/options.ts";
import { muxOptionSchema } from "../protocol/smux/options.ts";
import { MuxListener, smuxServers } from "./mux.ts";
import type { ListenerFactory } from "./registry.ts";
import { TcpListener, tcpListenerOptions } from "./tcp.ts";

export const mtcpListenerOptions = defineOptions({
  ...tcpListenerOptions.schema,
  ...muxOptionSchema(2),
  backlog: opt.int("backlog", 128, { min: 1 }),
});

export const mtcpListener: ListenerFactory = {
  options: mtcpListenerOptions,
  create: (init, opts) =>
    new MuxListener(new TcpListener(init.addr, opts), smuxServers(opts, init.log), opts.backlog, init.log),
};
