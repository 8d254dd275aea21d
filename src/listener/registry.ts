/**
 * The listener registry and what a listener factory is given.
 * @module
 */
import type { AuthConfig, TLSConfig } from "../config/types.ts";
import type { Auther } from "../core/auth.ts";
import type { Logger } from "../core/log.ts";
import type { Metadata } from "../core/options.ts";
import { type Factory, Registry } from "../core/registry.ts";
import type { Listener, Router } from "../core/types.ts";

/** Everything a listener is built from. */
export interface ListenerInit {
  /** The service's listen address. */
  addr: string;
  /** Config path of this listener, for error messages (`services[0].listener`). */
  path: string;
  service: string;
  metadata: Metadata;
  auth?: AuthConfig;
  /** The credentials check of `listener.auther`/`authers` (sshd); wins over `auth` when set. */
  auther?: Auther;
  tls?: TLSConfig;
  /** The listener's chain (`listener.chain`): rtcp/rudp bind through it. */
  router: Router;
  log: Logger;
}

export type ListenerFactory = Factory<ListenerInit, Listener>;

/** Listener types by name. */
export const listeners: Registry<ListenerFactory> = new Registry<ListenerFactory>("listener");
