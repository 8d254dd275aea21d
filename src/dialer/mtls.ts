/**
 * The `mtls` dialer: streams of one smux session (version 1 by default) per node, inside the
 * `tls` dialer's connection (src/dialer/mux.ts).
 * @module
 */
import { defineOptions } from "../core/options.ts";
import { muxOptionSchema } from "../protocol/smux/options.ts";
import { MuxDialer, smuxSessions } from "./mux.ts";
import type { DialerFactory } from "./registry.ts";
import { clientTls, TlsDialer, tlsDialerOptions } from "./tls.ts";

export const mtlsDialerOptions = defineOptions({ ...tlsDialerOptions.schema, ...muxOptionSchema(1) });

export const mtlsDialer: DialerFactory = {
  options: mtlsDialerOptions,
  create: (init, opts) =>
    new MuxDialer(
      new TlsDialer(clientTls(init, opts), opts),
      smuxSessions(opts, init.log),
      opts.handshakeTimeout,
    ),
};
