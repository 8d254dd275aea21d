/**
 * The `pht` and `phts` listeners: gost's HTTP long-polling tunnel (src/protocol/pht/server.ts)
 * on TCP, or inside TLS (the tls listener's certificate options). Options: `authorizePath`
 * (/authorize), `pushPath` (/push), `pullPath` (/pull), `backlog` (128).
 * @module
 */
import { defineOptions, opt } from "../core/options.ts";
import { tlsFileOptions } from "../core/tls/config.ts";
import { phtPathOptions } from "../dialer/pht.ts";
import { PhtServer } from "../protocol/pht/server.ts";
import { phtPaths } from "../protocol/pht/wire.ts";
import { handshakeListenerOptions } from "./_handshake.ts";
import type { ListenerFactory } from "./registry.ts";
import { TcpListener, tcpListenerOptions } from "./tcp.ts";
import { createTlsListener } from "./tls.ts";

export const phtListenerOptions = defineOptions({
  ...tcpListenerOptions.schema,
  ...phtPathOptions,
  backlog: opt.int("backlog", 128, { min: 1 }),
  mptcp: opt.ignored("mptcp", "Deno has no Multipath TCP sockets"),
});

export const phtsListenerOptions = defineOptions({
  ...tlsFileOptions,
  ...handshakeListenerOptions,
  ...phtPathOptions,
  mptcp: opt.ignored("mptcp", "Deno has no Multipath TCP sockets"),
});

export const phtListener: ListenerFactory = {
  options: phtListenerOptions,
  create: (init, opts) =>
    new PhtServer(new TcpListener(init.addr, opts), {
      paths: phtPaths(opts.authorizePath, opts.pushPath, opts.pullPath),
      backlog: opts.backlog,
      log: init.log,
    }),
};

export const phtsListener: ListenerFactory = {
  options: phtsListenerOptions,
  create: (init, opts) =>
    new PhtServer(createTlsListener(init, opts), {
      paths: phtPaths(opts.authorizePath, opts.pushPath, opts.pullPath),
      backlog: opts.backlog,
      log: init.log,
    }),
};
