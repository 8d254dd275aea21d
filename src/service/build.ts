/**
 * Turns a config into ready services and chains, collecting every problem (with its config
 * path) before anything binds, in named steps: {@link validateConfig} checks the document's
 * shape and types it; the policy sections are built; then chains (build_chain.ts), resolvers
 * and the nodes' lookups, then services (build_service.ts).
 * @module
 */
import { buildAdmissions } from "../admission/build.ts";
import { buildAuthers } from "../auth/build.ts";
import { buildBypasses } from "../bypass/build.ts";
import type { Chain } from "../chain/node.ts";
import { ChainRouter } from "../chain/router.ts";
import type { Config } from "../config/types.ts";
import { validateConfig, type ValidConfig } from "../config/validate.ts";
import type { ConfigError } from "../core/errors.ts";
import { type Logger, rootLogger } from "../core/log.ts";
import { connectors } from "../connector/mod.ts";
import { dialers } from "../dialer/mod.ts";
import { buildHosts } from "../hosts/build.ts";
import { buildResolvers, nameLookup } from "../resolver/build.ts";
import { handlers } from "../handler/mod.ts";
import { listeners } from "../listener/mod.ts";
import { buildLimiters } from "../limiter/build.ts";
import { buildChains, type BuiltNode, linkLookups, type LookupFor, type Scope } from "./build_chain.ts";
import { buildService } from "./build_service.ts";
import type { Service } from "./service.ts";
import { parseWorkers } from "./sharing.ts";

/** The built program: services ready to start, and the chains they use. */
export interface Runtime {
  services: Service[];
  chains: Map<string, Chain>;
  /** Metadata keys no component understood, as warnings with their paths. */
  warnings: string[];
  /** Stops what the policy sections run (file reloads, name re-resolution, hosts reloads) once unused. */
  closers: (() => void)[];
}

/** What went wrong while building; empty when the config is valid. */
export interface BuildResult {
  runtime?: Runtime;
  errors: ConfigError[];
}

/**
 * Builds chains and services; returns every error found (nothing is bound yet). Only the
 * component types the config names are loaded.
 */
export async function buildRuntime(config: Config, log: Logger = rootLogger): Promise<BuildResult> {
  const { config: valid, errors, warnings } = validateConfig(config);
  if (!valid) return { errors };
  await loadComponents(valid);
  return assemble(valid, errors, warnings, log);
}

/** Loads the factories of every component type `config` names (unknown names are reported later). */
export async function loadComponents(config: ValidConfig): Promise<void> {
  const nodes = config.chains.flatMap((c) => c.hops.flatMap((h) => h.nodes));
  const types = <T>(items: T[], type: (item: T) => string) => new Set(items.map(type));
  await Promise.all([
    handlers.load(types(config.services, (s) => s.handler.type)),
    listeners.load(types(config.services, (s) => s.listener.type)),
    connectors.load(types(nodes, (n) => n.connector.type)),
    dialers.load(types(nodes, (n) => n.dialer.type)),
  ]);
}

/** The assembly: policy sections, hosts, chains, resolvers, the nodes' lookups, services. */
function assemble(valid: ValidConfig, errors: ConfigError[], warnings: string[], log: Logger): BuildResult {
  const { doc } = valid;
  try {
    parseWorkers(doc.workers);
  } catch (err) {
    errors.push(err as ConfigError);
  }
  // Policy sections first: services, hops and nodes refer to them by name.
  const closers: (() => void)[] = [];
  const authers = buildAuthers(doc.authers, errors, log, closers);
  const admissions = buildAdmissions(doc.admissions, errors, log, closers);
  const bypasses = buildBypasses(doc.bypasses, errors, log, closers);
  const scope: Scope = { errors, warnings, log, bypasses };

  // Hosts, then chains, then resolvers (a nameserver may be reached through a chain), then
  // the nodes' lookups (a node may use a resolver): services refer to all of them by name.
  const hostsByName = buildHosts(doc.hosts, errors, warnings, log);
  const built: BuiltNode[] = [];
  const chains = buildChains(valid.chains, scope, built);
  const resolvers = buildResolvers(
    doc.resolvers,
    errors,
    warnings,
    log,
    (name) => chains.has(name) ? new ChainRouter(chains.get(name)) : undefined,
    new ChainRouter(),
    [...chains.keys()],
  );
  // A hop's missing name is reported once, not once per node.
  const reported = new Set<string>();
  const lookupErrors: ConfigError[] = [];
  const lookupFor: LookupFor = (owner, path) => {
    const found = nameLookup(owner, path, hostsByName, resolvers, lookupErrors);
    for (const e of lookupErrors.splice(0)) if (!reported.has(e.path) && reported.add(e.path)) errors.push(e);
    return found;
  };
  linkLookups(built, lookupFor);

  const limiters = buildLimiters(doc, log, errors);
  const serviceScope = { ...scope, admissions, authers, limiters, chains, lookupFor };
  const services = valid.services.flatMap((s) => buildService(s, serviceScope) ?? []);
  for (const h of hostsByName.values()) closers.push(() => h.close());
  if (errors.length) {
    for (const close of closers) close();
    return { errors };
  }
  return { runtime: { services, chains, warnings, closers }, errors };
}
