/**
 * The `wss` listener: TLS (the same options as the `tls` listener), then the WebSocket
 * upgrade of the `ws` listener, both under one handshake deadline.
 * @module
 */
import { defineOptions, type Options } from "../core/options.ts";
import { readTlsFiles, tlsFileOptions } from "../core/tls/config.ts";
import { TlsAcceptor } from "../core/tls/server.ts";
import { acceptWebSocket } from "../protocol/websocket/upgrade.ts";
import { HandshakeListener } from "./_handshake.ts";
import type { ListenerFactory, ListenerInit } from "./registry.ts";
import { servedPath, wsOptions } from "./ws.ts";

export const wssListenerOptions = defineOptions({ ...wsOptions, ...tlsFileOptions });

export function createWssListener(
  init: ListenerInit,
  opts: Options<typeof wssListenerOptions["schema"]>,
): HandshakeListener {
  const material = readTlsFiles(init.tls, opts, init.path);
  const accept = { path: servedPath(opts.path), headers: opts.header };
  let acceptor: TlsAcceptor;
  return new HandshakeListener(
    {
      what: "wss",
      async bind() {
        acceptor = await TlsAcceptor.create(material);
        return acceptor.listen(init.addr, opts.reusePort, opts.keepAlive);
      },
      upgrade: async (conn) => acceptWebSocket(await acceptor.secure(conn), accept),
    },
    init.addr,
    opts,
    init.log,
  );
}

export const wssListener: ListenerFactory = {
  options: wssListenerOptions,
  create: createWssListener,
};
