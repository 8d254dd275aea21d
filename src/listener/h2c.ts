/**
 * The `h2c` listener: gost's HTTP/2 tunnel without TLS (prior knowledge only, no Upgrade): every
 * stream that asks for the tunnel is one accepted connection (src/protocol/http2/tunnel.ts).
 * Options: `path` (default empty: CONNECT requests only), `backlog`.
 * @module
 */
import { defineOptions, opt } from "../core/options.ts";
import { TunnelServer } from "../protocol/http2/tunnel.ts";
import { MuxListener } from "./mux.ts";
import type { ListenerFactory } from "./registry.ts";
import { TcpListener, tcpListenerOptions } from "./tcp.ts";

export const h2cListenerOptions = defineOptions({
  ...tcpListenerOptions.schema,
  path: opt.string("path", ""),
  backlog: opt.int("backlog", 128, { min: 1 }),
  mptcp: opt.ignored("mptcp", "Deno cannot open Multipath TCP sockets; plain TCP is used"),
});

export const h2cListener: ListenerFactory = {
  options: h2cListenerOptions,
  create: (init, opts) =>
    new MuxListener(
      new TcpListener(init.addr, opts),
      (conn) => new TunnelServer(conn, opts.path, init.log),
      opts.backlog,
      init.log,
    ),
};
