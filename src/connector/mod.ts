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

connectors.register("forward", forwardConnector);
connectors.register("relay", relayConnector);
connectors.register("sshd", sshdConnector);
connectors.register("socks5", socks5Connector);
connectors.register("socks", socks5Connector);
connectors.register("ss", ssConnector);
connectors.register("ssu", ssuConnector);

export { connectors };
