/**
 * The `grpc` listener: gost's gRPC tunnel (src/protocol/grpc/tunnel.ts): every call to the
 * tunnel's path is one accepted connection. Options as gost's: `grpcInsecure` (cleartext; TLS,
 * with ALPN h2, otherwise), `path`, `backlog`, `keepalive` with `keepalive.time` /
 * `keepalive.timeout` (HTTP/2 PINGs from the server).
 * @module
 */
import { defineOptions, opt } from "../core/options.ts";
import { GrpcServer } from "../protocol/grpc/tunnel.ts";
import { MuxListener } from "./mux.ts";
import type { ListenerFactory } from "./registry.ts";
import { TcpListener } from "./tcp.ts";
import { createTlsListener, tlsListenerOptions } from "./tls.ts";

export const grpcListenerOptions = defineOptions({
  ...tlsListenerOptions.schema,
  insecure: opt.bool(["grpcInsecure", "grpc.insecure", "insecure"], false),
  path: opt.string(["path", "grpc.path"], ""),
  keepAlive: opt.bool(["keepalive", "keepAlive", "grpc.keepalive"], false),
  keepAliveTime: opt.duration(["keepalive.time", "grpc.keepalive.time"], 60_000),
  keepAliveTimeout: opt.duration(["keepalive.timeout", "grpc.keepalive.timeout"], 30_000),
  // grpc-go's enforcement policy towards client pings; our server answers every PING.
  keepAliveMinTime: opt.ignored(
    ["keepalive.minTime", "grpc.keepalive.minTime"],
    "client PINGs are answered however often they come",
  ),
  keepAlivePermitWithoutStream: opt.ignored(
    ["keepalive.permitWithoutStream", "grpc.keepalive.permitWithoutStream"],
    "client PINGs are answered with or without open streams",
  ),
  keepAliveMaxConnectionIdle: opt.ignored(
    ["keepalive.maxConnectionIdle", "grpc.keepalive.maxConnectionIdle"],
    "idle connections are not closed by the server",
  ),
});

export const grpcListener: ListenerFactory = {
  options: grpcListenerOptions,
  create: (init, opts) => {
    // keepAlive here is gRPC's (HTTP/2 PINGs, below), not TCP keep-alive on the channel.
    const channel = opts.insecure
      ? new TcpListener(init.addr, { reusePort: opts.reusePort })
      : createTlsListener(init, { ...opts, keepAlive: false, alpn: ["h2"] });
    const keepAlive = opts.keepAlive
      ? { interval: opts.keepAliveTime, timeout: opts.keepAliveTimeout }
      : undefined;
    return new MuxListener(
      channel,
      (conn) => new GrpcServer(conn, opts.path, keepAlive, init.log),
      opts.backlog,
      init.log,
    );
  },
};
