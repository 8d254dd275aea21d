/**
 * Registers every connector type. One line per protocol; the file of each is `connector/<name>.ts`.
 * @module
 */
import { forwardConnector } from "./forward.ts";
import { connectors } from "./registry.ts";

connectors.register("forward", forwardConnector);

export { connectors };
