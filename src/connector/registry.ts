/**
 * The connector registry and what a connector factory is given.
 * @module
 */
import type { AuthConfig, TLSConfig } from "../config/types.ts";
import type { Logger } from "../core/log.ts";
import type { Metadata } from "../core/options.ts";
import { type Factory, Registry } from "../core/registry.ts";
import type { Connector } from "../core/types.ts";

/** Everything a connector is built from. */
export interface ConnectorInit {
  /** Config path (`chains[0].hops[0].nodes[0].connector`). */
  path: string;
  /** The node's address. */
  nodeAddr: string;
  metadata: Metadata;
  auth?: AuthConfig;
  tls?: TLSConfig;
  log: Logger;
}

export type ConnectorFactory = Factory<ConnectorInit, Connector>;

/** Connector types by name. */
export const connectors: Registry<ConnectorFactory> = new Registry<ConnectorFactory>("connector");
