/**
 * The `h2c` dialer: gost's HTTP/2 tunnel without TLS (prior knowledge): one HTTP/2 connection
 * per node, shared by every connection through it, each a stream (src/protocol/http2/tunnel.ts).
 * Options: `host` (the request's authority; default the node address), `path` (GET on it
 * instead of CONNECT), `header` (extra request headers).
 * @module
 */
import { defineOptions, opt } from "../core/options.ts";
import { TunnelClient } from "../protocol/http2/tunnel.ts";
import { MuxDialer } from "./mux.ts";
import type { DialerFactory } from "./registry.ts";
import { TcpDialer, tcpDialerOptions } from "./tcp.ts";

/** Options of gost's HTTP/2 tunnel dialers (h2c; h2 adds TLS). */
export const h2DialOptions = {
  host: opt.string("host", ""),
  path: opt.string("path", ""),
  header: opt.map("header"),
  handshakeTimeout: opt.duration("handshakeTimeout", 15_000),
};

export const h2cDialerOptions = defineOptions({ ...tcpDialerOptions.schema, ...h2DialOptions });

export const h2cDialer: DialerFactory = {
  options: h2cDialerOptions,
  create: (init, opts) =>
    new MuxDialer(
      new TcpDialer(opts.dialTimeout),
      (carrier, addr) =>
        new TunnelClient(
          carrier,
          { authority: opts.host || addr, path: opts.path, header: opts.header },
          opts.handshakeTimeout,
          init.log,
        ),
      opts.handshakeTimeout,
    ),
};
