/**
 * Assembly of services from the checked config (src/config/validate.ts): the routers of the
 * handler and listener, the forwarder, the policy each names, the listener and handler built
 * and their options parsed. A service whose components fail is left out, its error collected.
 * @module
 */
import type { Admission } from "../admission/admission.ts";
import { admissionAt } from "../admission/build.ts";
import { authersOf } from "../auth/build.ts";
import { bypassAt } from "../bypass/build.ts";
import { Forwarder, Target, targetOptions } from "../chain/forwarder.ts";
import type { Chain } from "../chain/node.ts";
import { ChainRouter, type RouterPolicy } from "../chain/router.ts";
import { selectorFrom, selectorOptions } from "../chain/selector.ts";
import type { ValidForwarder, ValidService } from "../config/validate.ts";
import type { Auther } from "../core/auth.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import { metadataWarnings } from "../core/options.ts";
import { handlers } from "../handler/mod.ts";
import { limiterKeys, type Limiters, limitPolicyFor } from "../limiter/build.ts";
import { listeners } from "../listener/mod.ts";
import { type LookupFor, type Scope, sectionKeys } from "./build_chain.ts";
import { Service } from "./service.ts";

/** Handlers that send every connection to the service's targets. */
const FORWARDING_HANDLERS = new Set(["tcp", "udp", "rtcp", "rudp", "forward"]);

/** What building a service needs beyond {@link Scope}: every section it may name. */
export interface ServiceScope extends Scope {
  admissions: Map<string, Admission>;
  authers: Map<string, Auther>;
  limiters: Limiters;
  chains: Map<string, Chain>;
  lookupFor: LookupFor;
}

/** One service, or undefined (with its error in `scope.errors`) when a component cannot be built. */
export function buildService(s: ValidService, scope: ServiceScope): Service | undefined {
  const { path, name, addr } = s;
  const { errors } = scope;
  const htype = s.handler.type, ltype = s.listener.type;
  // The service's bypass refuses targets where the handler dials (the router), tested on the
  // address after its hosts mapping and resolver.
  const bypass = bypassAt(s.raw, path, scope.bypasses, errors);
  const lookup = scope.lookupFor(s.raw, path);
  const handlerRouter = routerFor(s.handler.chain, `${path}.handler.chain`, scope, { ...lookup, bypass });
  const listenerRouter = routerFor(s.listener.chain, `${path}.listener.chain`, scope, lookup);
  const forwarder = buildForwarder(s.forwarder, errors);
  checkTarget(s, forwarder, [handlerRouter, listenerRouter], errors);
  const log = scope.log.with({ kind: "service", service: name, listener: ltype, handler: htype });
  const admission = admissionAt(s.raw, path, scope.admissions, errors);
  const { handler: hauther, listener: lauther } = authersOf(s.raw, path, htype, ltype, scope.authers, errors);
  try {
    const lf = listeners.get(ltype, `${path}.listener.type`);
    const hf = handlers.get(htype, `${path}.handler.type`);
    const lopts = lf.options.parse(s.listener.metadata, `${path}.listener.metadata`);
    const hopts = hf.options.parse(s.handler.metadata, `${path}.handler.metadata`);
    const places = [
      [s.handler.metadata, "handler.metadata"],
      [s.listener.metadata, "listener.metadata"],
      [s.metadata, "metadata"],
    ] as const;
    scope.warnings.push(
      ...metadataWarnings(path, places, [lf.options, hf.options, selectorOptions, sectionKeys, limiterKeys]),
    );
    const listener = lf.create({
      addr,
      path: `${path}.listener`,
      service: name,
      metadata: s.listener.metadata,
      auth: s.listener.auth,
      auther: lauther,
      tls: s.listener.tls,
      router: listenerRouter,
      log,
    }, lopts);
    const handler = hf.create({
      path: `${path}.handler`,
      service: name,
      addr,
      listenerType: ltype,
      metadata: s.handler.metadata,
      auth: s.handler.auth,
      auther: hauther,
      tls: s.handler.tls,
      router: handlerRouter,
      forwarder,
      log,
    }, hopts);
    const limits = limitPolicyFor(s.raw, path, s.metadata, scope.limiters, errors);
    return new Service(name, listener, handler, log, { admissions: admission, limits });
  } catch (err) {
    errors.push(err instanceof ConfigError ? err : new ConfigError(path, errorMessage(err)));
    return undefined;
  }
}

/** A forwarding handler needs targets, or a chain (of its own or its listener's) to reach them. */
function checkTarget(
  s: ValidService,
  fwd: Forwarder | undefined,
  routers: ChainRouter[],
  errors: ConfigError[],
) {
  const htype = s.handler.type;
  if (!FORWARDING_HANDLERS.has(htype) || (fwd && fwd.targets.length > 0) || routers.some((r) => r.hasChain)) {
    return;
  }
  errors.push(
    new ConfigError(
      `${s.path}.forwarder`,
      `the ${htype} handler needs a target (e.g. ${htype}://${s.addr}/host:port) or a chain ending in a forward or relay node`,
    ),
  );
}

/** The router through the chain `name` (none: direct); a chain not defined is an error. */
function routerFor(name: unknown, path: string, scope: ServiceScope, policy: RouterPolicy = {}): ChainRouter {
  if (name === undefined || name === null || name === "") return new ChainRouter(undefined, policy);
  const chain = scope.chains.get(String(name));
  if (chain) return new ChainRouter(chain, policy);
  const defined = [...scope.chains.keys()].join(", ") || "none";
  scope.errors.push(
    new ConfigError(path, `chain ${JSON.stringify(name)} does not exist (defined: ${defined})`),
  );
  return new ChainRouter(undefined, policy);
}

/** The service's targets with their selector; each target's weight parsed from its metadata. */
export function buildForwarder(
  cfg: ValidForwarder | undefined,
  errors: ConfigError[],
): Forwarder | undefined {
  if (!cfg) return undefined;
  const targets = cfg.nodes.map((t) => {
    const { weight, maxFails, failTimeout } = targetOptions.parseAll(
      t.metadata,
      `${t.path}.metadata`,
      errors,
    );
    // A weight of 0 counts as the default, as it always has here.
    return new Target(t.name, t.addr, weight || 1, { maxFails, failTimeout });
  });
  return new Forwarder(targets, selectorFrom(cfg.selector, `${cfg.path}.selector`, errors));
}
