/**
 * The `h2` listener: gost's HTTP/2 tunnel over TLS (ALPN h2): the `tls` listener's connections
 * carry the `h2c` listener's streams (src/protocol/http2/tunnel.ts). Options: the tls ones,
 * `path`, `backlog`.
 * @module
 */
import { defineOptions, opt } from "../core/options.ts";
import { TunnelServer } from "../protocol/http2/tunnel.ts";
import { MuxListener } from "./mux.ts";
import type { ListenerFactory } from "./registry.ts";
import { createTlsListener, tlsListenerOptions } from "./tls.ts";

export const h2ListenerOptions = defineOptions({
  ...tlsListenerOptions.schema,
  path: opt.string("path", ""),
});

export const h2Listener: ListenerFactory = {
  options: h2ListenerOptions,
  create: (init, opts) =>
    new MuxListener(
      createTlsListener(init, { ...opts, alpn: ["h2"] }),
      (conn) => new TunnelServer(conn, opts.path, init.log),
      opts.backlog,
      init.log,
    ),
};
