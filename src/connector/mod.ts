/**
 * Registers every connector type. One line per protocol; the file of each is `connector/<name>.ts`.
 * @module
 */
import { forwardConnector } from "./forward.ts";
import { connectors } from "./registry.ts";
import { sshdConnector } from "./sshd.ts";
import { relayConnector } from "./relay.ts";

connectors.register("forward", forwardConnector);
connectors.register("relay", relayConnector);
connectors.register("sshd", sshdConnector);

export { connectors };
