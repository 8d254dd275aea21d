/**
 * The `ws` listener: an HTTP/1.1 WebSocket upgrade on `path` (default `/ws`; other paths are
 * answered 404), then the stream rides in binary messages.
 * @module
 */
import { defineOptions, opt, type Options } from "../core/options.ts";
import { socketDuplex } from "../core/socket.ts";
import { acceptWebSocket } from "../protocol/websocket/upgrade.ts";
import { HandshakeListener, handshakeListenerOptions } from "./_handshake.ts";
import type { ListenerFactory, ListenerInit } from "./registry.ts";
import { listenTCP } from "./tcp.ts";

/** Options of the ws listener (wss adds the TLS ones). */
/** Why gost's websocket buffer and compression options do nothing here. */
const WS_BUFFERS = "frames are read and written in place, without fixed-size buffers";
const WS_COMPRESSION = "per-message compression is never negotiated (gost's default too)";

export const wsOptions = {
  ...handshakeListenerOptions,
  path: opt.string(["path", "ws.path"], "/ws"),
  /** Extra response headers of the 101 answer. */
  header: opt.map(["header", "ws.header"]),
  readBufferSize: opt.ignored(["readBufferSize", "ws.readBufferSize"], WS_BUFFERS),
  writeBufferSize: opt.ignored(["writeBufferSize", "ws.writeBufferSize"], WS_BUFFERS),
  enableCompression: opt.ignored(["enableCompression", "ws.enableCompression"], WS_COMPRESSION),
  mptcp: opt.ignored("mptcp", "Deno cannot open Multipath TCP sockets; plain TCP is used"),
};

export const wsListenerOptions = defineOptions(wsOptions);

/** The path as served: always with a leading slash. */
export function servedPath(path: string): string {
  return path.startsWith("/") ? path : `/${path}`;
}

export function createWsListener(
  init: ListenerInit,
  opts: Options<typeof wsListenerOptions["schema"]>,
): HandshakeListener {
  const accept = { path: servedPath(opts.path), headers: opts.header };
  return new HandshakeListener(
    {
      what: "ws",
      bind: () => Promise.resolve(listenTCP(init.addr, opts.reusePort)),
      upgrade: (conn) => acceptWebSocket(socketDuplex(conn), accept),
    },
    init.addr,
    opts,
    init.log,
  );
}

export const wsListener: ListenerFactory = {
  options: wsListenerOptions,
  create: createWsListener,
};
