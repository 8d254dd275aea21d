/**
 * The `grpc` dialer: gost's gRPC tunnel (src/protocol/grpc/tunnel.ts): one HTTP/2 connection
 * per node, shared by every connection through it, each a streaming call. Options as gost's:
 * `grpcInsecure` (cleartext; TLS otherwise), `path`, `host` (the authority; default the node's
 * host without its port), `keepalive` with `keepalive.time`/`keepalive.timeout` (HTTP/2 PINGs).
 * @module
 */
import { splitHostPort } from "../core/addr.ts";
import { defineOptions, opt } from "../core/options.ts";
import { GrpcClient } from "../protocol/grpc/tunnel.ts";
import { MuxDialer } from "./mux.ts";
import type { DialerFactory } from "./registry.ts";
import { TcpDialer } from "./tcp.ts";
import { clientTls, TlsDialer, tlsDialOptions } from "./tls.ts";

export const grpcDialerOptions = defineOptions({
  ...tlsDialOptions,
  insecure: opt.bool(["grpcInsecure", "grpc.insecure", "insecure"], false),
  host: opt.string(["host", "grpc.authority", "grpc.host"], ""),
  path: opt.string(["path", "grpc.path"], ""),
  keepAlive: opt.bool(["keepalive", "keepAlive", "grpc.keepalive"], false),
  keepAliveTime: opt.duration(["keepalive.time", "grpc.keepalive.time"], 30_000),
  keepAliveTimeout: opt.duration(["keepalive.timeout", "grpc.keepalive.timeout"], 30_000),
  // grpc-go's: pings without calls in flight; ours ping the connection whenever it is up.
  keepAlivePermitWithoutStream: opt.ignored(
    ["keepalive.permitWithoutStream", "grpc.keepalive.permitWithoutStream"],
    "with keepalive on, PINGs are sent with or without open streams",
  ),
  // grpc-go's reconnect back-off floor; a failed dial here fails the connection at once.
  minConnectTimeout: opt.ignored(
    ["minConnectTimeout", "grpc.minConnectTimeout"],
    "connecting is bounded by dialTimeout and handshakeTimeout",
  ),
});

export const grpcDialer: DialerFactory = {
  options: grpcDialerOptions,
  create: (init, opts) => {
    const channel = opts.insecure
      ? new TcpDialer(opts.dialTimeout)
      : new TlsDialer({ ...clientTls(init, opts), alpn: ["h2"] }, opts);
    return new MuxDialer(
      channel,
      (carrier, addr) =>
        new GrpcClient(carrier, {
          path: opts.path,
          authority: hostOnly(opts.host || addr),
          secure: !opts.insecure,
          keepAlive: opts.keepAlive
            ? { interval: opts.keepAliveTime, timeout: opts.keepAliveTimeout }
            : undefined,
        }, init.log),
      opts.handshakeTimeout,
    );
  },
};

/** The host of `hostport` (gRPC's authority carries no port). */
function hostOnly(hostport: string): string {
  try {
    return splitHostPort(hostport).host;
  } catch {
    return hostport;
  }
}
