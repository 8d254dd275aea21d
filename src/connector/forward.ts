/**
 * The `forward` connector: speaks no protocol. The node's server decides where bytes go
 * (its own targets), so the requested address is ignored.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { defineOptions } from "../core/options.ts";
import type { Connector } from "../core/types.ts";
import type { ConnectorFactory } from "./registry.ts";

/** Passes the stream through unchanged. */
export class ForwardConnector implements Connector {
  connect(conn: Duplex): Promise<Duplex> {
    return Promise.resolve(conn);
  }
}

export const forwardConnector: ConnectorFactory = {
  options: defineOptions({}),
  create: () => new ForwardConnector(),
};
