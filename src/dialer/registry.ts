/**
 * The dialer registry and what a dialer factory is given.
 * @module
 */
import type { AuthConfig, TLSConfig } from "../config/types.ts";
import type { Logger } from "../core/log.ts";
import type { Metadata } from "../core/options.ts";
import { type Factory, Registry } from "../core/registry.ts";
import type { Dialer } from "../core/types.ts";

/** Everything a dialer is built from. */
export interface DialerInit {
  /** Config path (`chains[0].hops[0].nodes[0].dialer`). */
  path: string;
  /** The node's address. */
  nodeAddr: string;
  metadata: Metadata;
  auth?: AuthConfig;
  tls?: TLSConfig;
  log: Logger;
}

export type DialerFactory = Factory<DialerInit, Dialer>;

/** Dialer types by name. */
export const dialers: Registry<DialerFactory> = new Registry<DialerFactory>("dialer");
