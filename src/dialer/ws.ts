/**
 * The `ws` dialer: `dial` opens TCP; `handshake` sends the WebSocket upgrade over whatever
 * stream reaches the node. Options: `path` (`/ws`), `host` (Host header; default the node's
 * address), `header` (extra request headers), `keepalive` with `ttl` (ping interval).
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import type { DialContext, Dialer } from "../core/types.ts";
import { connectWebSocket } from "../protocol/websocket/upgrade.ts";
import type { DialerFactory } from "./registry.ts";
import { DEFAULT_DIAL_TIMEOUT, dialTCP } from "./tcp.ts";

/** Default ping interval when `keepalive` is on without a `ttl`. */
export const DEFAULT_PING_INTERVAL = 15_000;

/** Why gost's websocket buffer and compression options do nothing here. */
const WS_BUFFERS = "frames are read and written in place, without fixed-size buffers";
const WS_COMPRESSION = "per-message compression is never negotiated (gost's default too)";

/** Options of the ws client side, shared with wss. */
export const wsDialOptions = {
  path: opt.string(["path", "ws.path"], "/ws"),
  host: opt.string(["host", "ws.host"], ""),
  header: opt.map(["header", "ws.header"]),
  keepAlive: opt.bool(["keepalive", "keepAlive", "ws.keepalive"], false),
  /** Ping interval; setting it turns pings on. 0: unset. */
  ttl: opt.duration(["ttl", "keepalive.interval", "ws.ttl"], 0),
  handshakeTimeout: opt.duration(["handshakeTimeout", "ws.handshakeTimeout"], 15_000),
  dialTimeout: opt.duration(["dialTimeout", "timeout"], DEFAULT_DIAL_TIMEOUT),
  readHeaderTimeout: opt.ignored(
    ["readHeaderTimeout", "ws.readHeaderTimeout"],
    "the handshake is bounded by handshakeTimeout as a whole",
  ),
  readBufferSize: opt.ignored(["readBufferSize", "ws.readBufferSize"], WS_BUFFERS),
  writeBufferSize: opt.ignored(["writeBufferSize", "ws.writeBufferSize"], WS_BUFFERS),
  enableCompression: opt.ignored(["enableCompression", "ws.enableCompression"], WS_COMPRESSION),
};

export const wsDialerOptions = defineOptions(wsDialOptions);

type WsDialOpts = Options<typeof wsDialerOptions["schema"]>;

/** The WebSocket client handshake over `conn`, closed when it fails or exceeds the deadline. */
export function wsHandshake(conn: Duplex, addr: string, opts: WsDialOpts): Promise<Duplex> {
  const pingInterval = opts.ttl > 0 ? opts.ttl : opts.keepAlive ? DEFAULT_PING_INTERVAL : 0;
  const p = connectWebSocket(conn, {
    host: opts.host || addr,
    path: opts.path,
    headers: opts.header,
    pingInterval,
  });
  return deadline(p, opts.handshakeTimeout, `websocket handshake with ${addr}`, () => conn.close());
}

/** The `ws` dialer. */
export class WsDialer implements Dialer {
  constructor(readonly opts: WsDialOpts) {}

  dial(addr: string, ctx: DialContext): Promise<Duplex> {
    return dialTCP(addr, { timeout: this.opts.dialTimeout, signal: ctx.signal });
  }

  handshake(conn: Duplex, addr: string): Promise<Duplex> {
    return wsHandshake(conn, addr, this.opts);
  }
}

export const wsDialer: DialerFactory = {
  options: wsDialerOptions,
  create: (_init, opts) => new WsDialer(opts),
};
