/**
 * Registers every connector type. One line per protocol; the file of each is `connector/<name>.ts`.
 * @module
 */
import { forwardConnector } from "./forward.ts";
import { connectors } from "./registry.ts";
import { sshdConnector } from "./sshd.ts";
import { relayConnector } from "./relay.ts";
import { socks5Connector } from "./socks5.ts";
import { ssConnector } from "./ss.ts";
import { ssuConnector } from "./ssu.ts";
import { httpConnector } from "./http.ts";
import { socks4aConnector, socks4Connector } from "./socks4.ts";

connectors.register("forward", forwardConnector);
connectors.register("relay", relayConnector);
connectors.register("sshd", sshdConnector);
connectors.register("socks5", socks5Connector);
connectors.register("socks", socks5Connector);
connectors.register("ss", ssConnector);
connectors.register("ssu", ssuConnector);
connectors.register("http", httpConnector);
connectors.register("socks4", socks4Connector);
connectors.register("socks4a", socks4aConnector);

export { connectors };
