/**
 * Registers every dialer type. One line per protocol, loaded when a config first names it; the file of each is `dialer/<name>.ts`.
 * @module
 */
import { defineOptions } from "../core/options.ts";
import { dialers } from "./registry.ts";
import { TcpDialer, tcpDialerOptions } from "./tcp.ts";
import { UdpDialer } from "./udp.ts";

dialers.register("tcp", {
  options: tcpDialerOptions,
  create: (_init, opts) => new TcpDialer(opts.dialTimeout),
});
dialers.register("kcp", () => import("./kcp.ts").then((m) => m.kcpDialer));
dialers.register("sshd", () => import("./sshd.ts").then((m) => m.sshdDialer));
dialers.register("udp", { options: defineOptions({}), create: () => new UdpDialer() });
dialers.register("tls", () => import("./tls.ts").then((m) => m.tlsDialer));
dialers.register("ws", () => import("./ws.ts").then((m) => m.wsDialer));
dialers.register("wss", () => import("./wss.ts").then((m) => m.wssDialer));
dialers.register("grpc", () => import("./grpc.ts").then((m) => m.grpcDialer));
dialers.register("h2", () => import("./h2.ts").then((m) => m.h2Dialer));
dialers.register("http2", () => import("./http2.ts").then((m) => m.http2Dialer));
dialers.register("h2c", () => import("./h2c.ts").then((m) => m.h2cDialer));
dialers.register("mtcp", () => import("./mtcp.ts").then((m) => m.mtcpDialer));
dialers.register("mtls", () => import("./mtls.ts").then((m) => m.mtlsDialer));
dialers.register("mws", () => import("./mws.ts").then((m) => m.mwsDialer));
dialers.register("mwss", () => import("./mwss.ts").then((m) => m.mwssDialer));
dialers.register("quic", () => import("./quic.ts").then((m) => m.quicDialer));
dialers.register("pht", () => import("./pht.ts").then((m) => m.phtDialer));
dialers.register("phts", () => import("./pht.ts").then((m) => m.phtsDialer));

export { dialers };
