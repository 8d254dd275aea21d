/**
 * Registers every listener type. One line per protocol, loaded when a config first names it; the file of each is `listener/<name>.ts`.
 * @module
 */
import { listeners } from "./registry.ts";
import { TcpListener, tcpListenerOptions } from "./tcp.ts";
import { UdpListener, udpListenerOptions } from "./udp.ts";

listeners.register("tcp", {
  options: tcpListenerOptions,
  create: (init, opts) => new TcpListener(init.addr, { ...opts, log: init.log }),
});
listeners.register("udp", {
  options: udpListenerOptions,
  create: (init, opts) => new UdpListener(init.addr, opts),
});
listeners.register("kcp", () => import("./kcp.ts").then((m) => m.kcpListener));
listeners.register("rtcp", () => import("./rtcp.ts").then((m) => m.rtcpListener));
listeners.register("rudp", () => import("./rudp.ts").then((m) => m.rudpListener));
listeners.register(
  "sshd",
  () => import("./sshd.ts").then((m) => ({ options: m.sshdListenerOptions, create: m.createSshdListener })),
);
listeners.register("tls", () => import("./tls.ts").then((m) => m.tlsListener));
listeners.register("ws", () => import("./ws.ts").then((m) => m.wsListener));
listeners.register("wss", () => import("./wss.ts").then((m) => m.wssListener));
listeners.register("grpc", () => import("./grpc.ts").then((m) => m.grpcListener));
listeners.register("h2", () => import("./h2.ts").then((m) => m.h2Listener));
listeners.register("http2", () => import("./http2.ts").then((m) => m.http2Listener));
listeners.register("h2c", () => import("./h2c.ts").then((m) => m.h2cListener));
listeners.register("mtcp", () => import("./mtcp.ts").then((m) => m.mtcpListener));
listeners.register("mtls", () => import("./mtls.ts").then((m) => m.mtlsListener));
listeners.register("mws", () => import("./mws.ts").then((m) => m.mwsListener));
listeners.register("mwss", () => import("./mwss.ts").then((m) => m.mwssListener));
listeners.register("quic", () => import("./quic.ts").then((m) => m.quicListener));
listeners.register("pht", () => import("./pht.ts").then((m) => m.phtListener));
listeners.register("phts", () => import("./pht.ts").then((m) => m.phtsListener));

export { listeners };
