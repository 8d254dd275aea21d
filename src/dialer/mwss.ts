/**
 * The `mwss` dialer: `mws` inside TLS: streams of one smux session per node, inside the `wss`
 * dialer's WebSocket (src/dialer/mux.ts).
 * @module
 */
import { defineOptions } from "../core/options.ts";
import { muxOptionSchema } from "../protocol/smux/options.ts";
import { MuxDialer, smuxSessions } from "./mux.ts";
import type { DialerFactory } from "./registry.ts";
import { clientTls } from "./tls.ts";
import { WssDialer, wssDialerOptions } from "./wss.ts";

export const mwssDialerOptions = defineOptions({ ...wssDialerOptions.schema, ...muxOptionSchema(1) });

export const mwssDialer: DialerFactory = {
  options: mwssDialerOptions,
  create: (init, opts) =>
    new MuxDialer(
      new WssDialer(clientTls(init, opts), opts),
      smuxSessions(opts, init.log),
      opts.handshakeTimeout,
    ),
};
