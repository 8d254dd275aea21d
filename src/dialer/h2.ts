/**
 * The `h2` dialer: gost's HTTP/2 tunnel over TLS (ALPN h2): the `h2c` dialer's streams inside the
 * `tls` dialer's connection, with all its TLS options (src/protocol/http2/tunnel.ts).
 * @module
 */
import { defineOptions } from "../core/options.ts";
import { TunnelClient } from "../protocol/http2/tunnel.ts";
import { h2DialOptions } from "./h2c.ts";
import { MuxDialer } from "./mux.ts";
import type { DialerFactory } from "./registry.ts";
import { clientTls, TlsDialer, tlsDialOptions } from "./tls.ts";

export const h2DialerOptions = defineOptions({ ...tlsDialOptions, ...h2DialOptions });

export const h2Dialer: DialerFactory = {
  options: h2DialerOptions,
  create: (init, opts) =>
    new MuxDialer(
      new TlsDialer({ ...clientTls(init, opts), alpn: ["h2"] }, opts),
      (carrier, addr) =>
        new TunnelClient(
          carrier,
          { authority: opts.host || addr, path: opts.path, header: opts.header, secure: true },
          opts.handshakeTimeout,
          init.log,
        ),
      opts.handshakeTimeout,
    ),
};
