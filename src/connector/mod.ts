/**
 * Registers every connector type. One line per protocol, loaded when a config first names it; the file of each is `connector/<name>.ts`.
 * @module
 */
import { connectors } from "./registry.ts";

connectors.register("forward", () => import("./forward.ts").then((m) => m.forwardConnector));
connectors.register("relay", () => import("./relay.ts").then((m) => m.relayConnector));
connectors.register("sshd", () => import("./sshd.ts").then((m) => m.sshdConnector));
connectors.register("socks5", () => import("./socks5.ts").then((m) => m.socks5Connector));
connectors.register("socks", () => import("./socks5.ts").then((m) => m.socks5Connector));
connectors.register("ss", () => import("./ss.ts").then((m) => m.ssConnector));
connectors.register("ssu", () => import("./ssu.ts").then((m) => m.ssuConnector));
connectors.register("http", () => import("./http.ts").then((m) => m.httpConnector));
connectors.register("http2", () => import("./http2.ts").then((m) => m.http2Connector));
connectors.register("socks4", () => import("./socks4.ts").then((m) => m.socks4Connector));
connectors.register("socks4a", () => import("./socks4.ts").then((m) => m.socks4aConnector));

export { connectors };
