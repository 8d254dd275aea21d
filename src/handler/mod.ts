/**
 * Registers every handler type. One line per protocol, loaded when a config first names it; the file of each is `handler/<name>.ts`.
 * @module
 */
import { handlers } from "./registry.ts";

handlers.register("tcp", () => import("./forward.ts").then((m) => m.tcpHandler));
handlers.register("udp", () => import("./forward.ts").then((m) => m.udpHandler));
handlers.register("forward", () => import("./forward.ts").then((m) => m.forwardHandler));
handlers.register("relay", () => import("./relay.ts").then((m) => m.relayHandler));
handlers.register("rtcp", () => import("./rtcp.ts").then((m) => m.rtcpHandler));
handlers.register("rudp", () => import("./rudp.ts").then((m) => m.rudpHandler));
handlers.register("sshd", () => import("./sshd.ts").then((m) => m.sshdHandler));
handlers.register("socks5", () => import("./socks5.ts").then((m) => m.socks5Handler));
handlers.register("socks", () => import("./socks5.ts").then((m) => m.socks5Handler));
handlers.register("ss", () => import("./ss.ts").then((m) => m.ssHandler));
handlers.register("ssu", () => import("./ssu.ts").then((m) => m.ssuHandler));
handlers.register("http", () => import("./http.ts").then((m) => m.httpHandler));
handlers.register("http2", () => import("./http2.ts").then((m) => m.http2Handler));
handlers.register("socks4", () => import("./socks4.ts").then((m) => m.socks4Handler));
handlers.register("socks4a", () => import("./socks4.ts").then((m) => m.socks4Handler));
handlers.register("auto", () => import("./auto.ts").then((m) => m.autoHandler));

export { handlers };
