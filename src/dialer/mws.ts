/**
 * The `mws` dialer: streams of one smux session (version 1 by default, one frame per binary
 * message) per node, inside the `ws` dialer's WebSocket (src/dialer/mux.ts).
 * @module
 */
import { defineOptions } from "../core/options.ts";
import { muxOptionSchema } from "../protocol/smux/options.ts";
import { MuxDialer, smuxSessions } from "./mux.ts";
import type { DialerFactory } from "./registry.ts";
import { WsDialer, wsDialerOptions } from "./ws.ts";

export const mwsDialerOptions = defineOptions({ ...wsDialerOptions.schema, ...muxOptionSchema(1) });

export const mwsDialer: DialerFactory = {
  options: mwsDialerOptions,
  create: (init, opts) =>
    new MuxDialer(new WsDialer(opts), smuxSessions(opts, init.log), opts.handshakeTimeout),
};
