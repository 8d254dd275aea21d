/**
 * The handler registry and what a handler factory is given.
 * @module
 */
import type { Forwarder } from "../chain/forwarder.ts";
import type { AuthConfig, TLSConfig } from "../config/types.ts";
import type { Auther } from "../core/auth.ts";
import type { Logger } from "../core/log.ts";
import type { Metadata } from "../core/options.ts";
import { type Factory, Registry } from "../core/registry.ts";
import type { Handler, Router } from "../core/types.ts";

/** Everything a handler is built from. */
export interface HandlerInit {
  /** Config path of this handler, for error messages (`services[0].handler`). */
  path: string;
  service: string;
  /** The service's listen address. */
  addr: string;
  /** The listener type this handler sits on (some handlers care, e.g. ssu over udp). */
  listenerType: string;
  metadata: Metadata;
  auth?: AuthConfig;
  /** The credentials check of `handler.auther`/`authers`/`auth`; wins over `auth` when set. */
  auther?: Auther;
  tls?: TLSConfig;
  /** Reaches destinations, through `handler.chain` when one is set. */
  router: Router;
  /** The service's forward targets, when it has any. */
  forwarder?: Forwarder;
  log: Logger;
}

export type HandlerFactory = Factory<HandlerInit, Handler>;

/** Handler types by name. */
export const handlers: Registry<HandlerFactory> = new Registry<HandlerFactory>("handler");
