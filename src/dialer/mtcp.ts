/**
 * The `mtcp` dialer: streams of one smux session (version 2 by default, as gost's mtcp) per
 * node, straight on TCP (src/dialer/mux.ts).
 * @module
 */
import { defineOptions, opt } from "../core/options.ts";
import { muxOptionSchema } from "../protocol/smux/options.ts";
import { MuxDialer, smuxSessions } from "./mux.ts";
import type { DialerFactory } from "./registry.ts";
import { TcpDialer, tcpDialerOptions } from "./tcp.ts";

export const mtcpDialerOptions = defineOptions({
  ...tcpDialerOptions.schema,
  ...muxOptionSchema(2),
  handshakeTimeout: opt.duration("handshakeTimeout", 15_000),
});

export const mtcpDialer: DialerFactory = {
  options: mtcpDialerOptions,
  create: (init, opts) =>
    new MuxDialer(new TcpDialer(opts.dialTimeout), smuxSessions(opts, init.log), opts.handshakeTimeout),
};
