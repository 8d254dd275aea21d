/**
 * Turns a validated-shape config into ready services and chains, collecting every problem
 * (with its config path) before anything binds.
 * @module
 */
import { admissionAt, buildAdmissions } from "../admission/build.ts";
import { authersOf, buildAuthers } from "../auth/build.ts";
import { buildBypasses, bypassAt } from "../bypass/build.ts";
import { Forwarder, Target } from "../chain/forwarder.ts";
import { ChainRouter, type RouterPolicy } from "../chain/router.ts";
import { Chain, Hop, Node } from "../chain/node.ts";
import { DEFAULT_SELECTOR, normalizeStrategy, Selector, STRATEGIES } from "../chain/selector.ts";
import { UNENFORCED_SECTIONS, unenforcedSettings } from "../config/enforcement.ts";
import type { Config, ForwarderConfig, SelectorConfig } from "../config/types.ts";
import { splitHostPort } from "../core/addr.ts";
import { parseDuration } from "../core/duration.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import { type Logger, rootLogger } from "../core/log.ts";
import { defineOptions, type Metadata, metadataWarnings, opt } from "../core/options.ts";
import type { Router } from "../core/types.ts";
import { connectors } from "../connector/mod.ts";
import { dialers } from "../dialer/mod.ts";
import { buildHosts } from "../hosts/build.ts";
import { buildResolvers, nameLookup, type NameRefs } from "../resolver/build.ts";
import type { NameLookup } from "../resolver/resolve.ts";
import { handlers } from "../handler/mod.ts";
import { listeners } from "../listener/mod.ts";
import { buildLimiters, limiterKeys, limitPolicyFor } from "../limiter/build.ts";
import { Service } from "./service.ts";
import { parseWorkers } from "./sharing.ts";

/** Handlers that send every connection to the service's targets. */
const FORWARDING_HANDLERS = new Set(["tcp", "udp", "rtcp", "rudp", "forward"]);

/** Top-level sections this builder turns into components (the rest are warned about). */
const BUILT_SECTIONS = new Set([
  "services",
  "chains",
  "log",
  "workers",
  "authers",
  "admissions",
  "bypasses",
  "hosts",
  "resolvers",
  "limiters",
  "climiters",
  "rlimiters",
  "api",
  "metrics",
]);

/** Node-level metadata gost reads itself (not its connector's or dialer's). */
const nodeOptions = defineOptions({
  weight: opt.int("weight", 1, { min: 0 }),
  backup: opt.bool("backup", false),
  maxFails: opt.int("maxFails", 1, { min: 0 }),
  failTimeout: opt.duration("failTimeout", 10_000),
});

/** Selector keys that may stand in service, hop or node metadata (the CLI copies them there). */
const selectorKeys = defineOptions({
  strategy: opt.string("strategy", "round"),
  maxFails: opt.int("maxFails", 1),
  failTimeout: opt.duration("failTimeout", 10_000),
});

/**
 * Query keys the CLI turns into top-level sections (`?bypass=`, `?admission=`, `?hosts=`,
 * `?resolver=`, `?prefer=`) and, as gost does, also leaves in the metadata: enforced through the
 * section, so not "unknown, ignored" there.
 */
const sectionKeys = defineOptions({
  bypass: opt.string("bypass", ""),
  admission: opt.string("admission", ""),
  hosts: opt.string("hosts", ""),
  resolver: opt.string("resolver", ""),
  prefer: opt.string("prefer", ""),
});

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

// deno-lint-ignore no-explicit-any
function isRecord(v: unknown): v is Record<string, any> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function checkAddr(addr: unknown, path: string, errors: ConfigError[], allowEmpty = false): string {
  if (typeof addr !== "string" || (addr === "" && !allowEmpty)) {
    errors.push(new ConfigError(path, `missing address (expected "host:port", e.g. ":8080")`));
    return "";
  }
  if (addr === "" && allowEmpty) return addr;
  try {
    splitHostPort(addr);
  } catch (err) {
    errors.push(new ConfigError(path, errorMessage(err)));
  }
  return addr;
}

function buildSelector(cfg: SelectorConfig | undefined, path: string, errors: ConfigError[]): Selector {
  if (cfg === undefined || cfg === null) return new Selector();
  if (!isRecord(cfg)) {
    errors.push(new ConfigError(path, "expected a mapping with strategy, maxFails, failTimeout"));
    return new Selector();
  }
  const opts = { ...DEFAULT_SELECTOR };
  if (cfg.strategy !== undefined) {
    const s = normalizeStrategy(String(cfg.strategy));
    if (!s) {
      errors.push(
        new ConfigError(
          `${path}.strategy`,
          `unknown strategy ${JSON.stringify(cfg.strategy)} (allowed: ${STRATEGIES.join(", ")})`,
        ),
      );
    } else opts.strategy = s;
  }
  if (cfg.maxFails !== undefined) {
    const n = Number(cfg.maxFails);
    if (!Number.isInteger(n) || n < 0) {
      errors.push(
        new ConfigError(
          `${path}.maxFails`,
          `invalid value ${JSON.stringify(cfg.maxFails)}: expected an integer >= 0`,
        ),
      );
    } else opts.maxFails = n;
  }
  if (cfg.failTimeout !== undefined) {
    const ms = parseDuration(cfg.failTimeout);
    if (ms === null) {
      errors.push(
        new ConfigError(
          `${path}.failTimeout`,
          `invalid duration ${JSON.stringify(cfg.failTimeout)} (e.g. "30s", "1m")`,
        ),
      );
    } else opts.failTimeout = ms;
  }
  return new Selector(opts);
}

function metadataOf(v: unknown, path: string, errors: ConfigError[]): Metadata {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) {
    errors.push(new ConfigError(path, "expected a mapping of option names to values"));
    return {};
  }
  return v;
}

function typeOf(v: unknown, def: string, path: string, errors: ConfigError[]): string {
  if (v === undefined || v === null) return def;
  if (!isRecord(v)) {
    errors.push(new ConfigError(path, `expected a mapping with a "type"`));
    return def;
  }
  if (v.type === undefined || v.type === null || v.type === "") return def;
  if (typeof v.type !== "string") {
    errors.push(new ConfigError(`${path}.type`, `expected a string, got ${JSON.stringify(v.type)}`));
    return def;
  }
  return v.type;
}

/**
 * Builds chains and services; returns every error found (nothing is bound yet). Only the
 * component types the config names are loaded.
 */
export async function buildRuntime(config: Config, log: Logger = rootLogger): Promise<BuildResult> {
  await loadComponents(config);
  return buildLoaded(config, log);
}

/** Loads the factories of every component type `config` names (unknown names are reported later). */
export async function loadComponents(config: Config): Promise<void> {
  const typeOr = (v: unknown, def: string) =>
    isRecord(v) && typeof v.type === "string" && v.type !== "" ? v.type : def;
  const want = {
    handlers: new Set<string>(),
    listeners: new Set<string>(),
    connectors: new Set<string>(),
    dialers: new Set<string>(),
  };
  if (isRecord(config)) {
    for (const s of Array.isArray(config.services) ? config.services : []) {
      if (!isRecord(s)) continue;
      want.handlers.add(typeOr(s.handler, "auto"));
      want.listeners.add(typeOr(s.listener, "tcp"));
    }
    for (const c of Array.isArray(config.chains) ? config.chains : []) {
      for (const h of isRecord(c) && Array.isArray(c.hops) ? c.hops : []) {
        for (const n of isRecord(h) && Array.isArray(h.nodes) ? h.nodes : []) {
          if (!isRecord(n)) continue;
          want.connectors.add(typeOr(n.connector, "http"));
          want.dialers.add(typeOr(n.dialer, "tcp"));
        }
      }
    }
  }
  await Promise.all([
    handlers.load(want.handlers),
    listeners.load(want.listeners),
    connectors.load(want.connectors),
    dialers.load(want.dialers),
  ]);
}

function buildLoaded(config: Config, log: Logger): BuildResult {
  const errors: ConfigError[] = [];
  const warnings: string[] = [];
  if (!isRecord(config)) {
    return { errors: [new ConfigError("", "the config must be a mapping with services and chains")] };
  }
  // Fail closed: a restricting setting that is not enforced stops the start (enforcement.ts).
  errors.push(...unenforcedSettings(config));
  for (const key of Object.keys(config)) {
    if (!BUILT_SECTIONS.has(key) && !UNENFORCED_SECTIONS.has(key)) {
      warnings.push(`${key}: section not supported, ignored`);
    }
  }
  try {
    parseWorkers(config.workers);
  } catch (err) {
    errors.push(err as ConfigError);
  }
  // Policy sections first: services, hops and nodes refer to them by name.
  const closers: (() => void)[] = [];
  const authers = buildAuthers(config.authers, errors, log, closers);
  const admissions = buildAdmissions(config.admissions, errors, log, closers);
  const bypasses = buildBypasses(config.bypasses, errors, log, closers);

  // Hosts, then chains, then resolvers (a nameserver may be reached through a chain), then
  // the nodes' lookups (a node may use a resolver): services refer to all of them by name.
  const hostsByName = buildHosts(config.hosts, errors, warnings, log);
  const nodeRefs: { node: Node; cfg: NameRefs; hop: NameRefs; path: string }[] = [];
  const chains = new Map<string, Chain>();
  const chainCfgs = config.chains ?? [];
  if (!Array.isArray(chainCfgs)) errors.push(new ConfigError("chains", "expected a list of chains"));
  else {
    chainCfgs.forEach((c, ci) => {
      const cpath = `chains[${ci}]`;
      if (!isRecord(c)) return errors.push(new ConfigError(cpath, "expected a mapping with name and hops"));
      if (typeof c.name !== "string" || !c.name) {
        return errors.push(new ConfigError(`${cpath}.name`, "a chain needs a name"));
      }
      if (chains.has(c.name)) {
        errors.push(new ConfigError(`${cpath}.name`, `duplicate chain name ${JSON.stringify(c.name)}`));
      }
      if (!Array.isArray(c.hops) || c.hops.length === 0) {
        return errors.push(new ConfigError(`${cpath}.hops`, "a chain needs at least one hop"));
      }
      const hops: Hop[] = [];
      c.hops.forEach((h, hi) => {
        const hpath = `${cpath}.hops[${hi}]`;
        if (!isRecord(h)) return errors.push(new ConfigError(hpath, "expected a mapping with nodes"));
        if (!Array.isArray(h.nodes) || h.nodes.length === 0) {
          return errors.push(new ConfigError(`${hpath}.nodes`, "a hop needs at least one node"));
        }
        const selector = buildSelector(h.selector, `${hpath}.selector`, errors);
        const nodes: Node[] = [];
        h.nodes.forEach((n, ni) => {
          const npath = `${hpath}.nodes[${ni}]`;
          if (!isRecord(n)) {
            return errors.push(new ConfigError(npath, "expected a mapping with addr, connector, dialer"));
          }
          const addr = checkAddr(n.addr, `${npath}.addr`, errors);
          const ctype = typeOf(n.connector, "http", `${npath}.connector`, errors);
          const dtype = typeOf(n.dialer, "tcp", `${npath}.dialer`, errors);
          const cmd = metadataOf(n.connector?.metadata, `${npath}.connector.metadata`, errors);
          const dmd = metadataOf(n.dialer?.metadata, `${npath}.dialer.metadata`, errors);
          const nmd = metadataOf(n.metadata, `${npath}.metadata`, errors);
          try {
            const cf = connectors.get(ctype, `${npath}.connector.type`);
            const df = dialers.get(dtype, `${npath}.dialer.type`);
            const copts = cf.options.parse(cmd, `${npath}.connector.metadata`);
            const dopts = df.options.parse(dmd, `${npath}.dialer.metadata`);
            const nopts = nodeOptions.parse(nmd, `${npath}.metadata`);
            const places = [[cmd, "connector.metadata"], [dmd, "dialer.metadata"], [
              nmd,
              "metadata",
            ]] as const;
            warnings.push(
              ...metadataWarnings(npath, places, [cf.options, df.options, nodeOptions, sectionKeys]),
            );
            const nlog = log.with({ chain: c.name, hop: h.name, node: n.name });
            const connector = cf.create({
              path: `${npath}.connector`,
              nodeAddr: addr,
              metadata: cmd,
              auth: n.connector?.auth,
              tls: n.connector?.tls,
              log: nlog,
            }, copts);
            const dialer = df.create({
              path: `${npath}.dialer`,
              nodeAddr: addr,
              metadata: dmd,
              auth: n.dialer?.auth,
              tls: n.dialer?.tls,
              log: nlog,
            }, dopts);
            const bypass = bypassAt(n, npath, bypasses, errors);
            nodes.push(
              new Node(
                String(n.name ?? `node-${ni}`),
                addr,
                dialer,
                connector,
                nopts.weight,
                bypass,
                nopts.backup,
              ),
            );
            nodeRefs.push({ node: nodes[nodes.length - 1], cfg: n, hop: h, path: npath });
          } catch (err) {
            errors.push(err instanceof ConfigError ? err : new ConfigError(npath, errorMessage(err)));
          }
        });
        hops.push(
          new Hop(String(h.name ?? `hop-${hi}`), nodes, selector, bypassAt(h, hpath, bypasses, errors)),
        );
      });
      chains.set(c.name, new Chain(c.name, hops));
    });
  }

  const resolvers = buildResolvers(
    config.resolvers,
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
  const lookupFor = (owner: NameRefs, path: string): NameLookup | undefined => {
    const found = nameLookup(owner, path, hostsByName, resolvers, lookupErrors);
    for (const e of lookupErrors.splice(0)) if (!reported.has(e.path) && reported.add(e.path)) errors.push(e);
    return found;
  };
  // A node without its own hosts or resolver uses its hop's.
  for (const { node, cfg, hop, path } of nodeRefs) {
    const hpath = path.replace(/\.nodes\[\d+\]$/, "");
    const r = lookupFor({ resolver: cfg.resolver || hop.resolver }, cfg.resolver ? path : hpath);
    const hm = lookupFor({ hosts: cfg.hosts || hop.hosts }, cfg.hosts ? path : hpath);
    if (r || hm) node.lookup = { resolver: r?.resolver, hosts: hm?.hosts };
  }

  const routerFor = (name: unknown, path: string, policy: RouterPolicy = {}): Router => {
    if (name === undefined || name === null || name === "") return new ChainRouter(undefined, policy);
    const chain = chains.get(String(name));
    if (!chain) {
      errors.push(
        new ConfigError(
          path,
          `chain ${JSON.stringify(name)} does not exist (defined: ${
            [...chains.keys()].join(", ") || "none"
          })`,
        ),
      );
      return new ChainRouter(undefined, policy);
    }
    return new ChainRouter(chain, policy);
  };

  const limiters = buildLimiters(config, log, errors);
  const services: Service[] = [];
  const svcCfgs = config.services ?? [];
  const names = new Set<string>();
  if (!Array.isArray(svcCfgs)) errors.push(new ConfigError("services", "expected a list of services"));
  else {
    svcCfgs.forEach((s, si) => {
      const spath = `services[${si}]`;
      if (!isRecord(s)) {
        return errors.push(new ConfigError(spath, "expected a mapping with name, addr, handler, listener"));
      }
      const name = typeof s.name === "string" && s.name ? s.name : `service-${si}`;
      if (names.has(name)) {
        errors.push(new ConfigError(`${spath}.name`, `duplicate service name ${JSON.stringify(name)}`));
      }
      names.add(name);
      const addr = checkAddr(s.addr, `${spath}.addr`, errors);
      const htype = typeOf(s.handler, "auto", `${spath}.handler`, errors);
      const ltype = typeOf(s.listener, "tcp", `${spath}.listener`, errors);
      const hmd = metadataOf(s.handler?.metadata, `${spath}.handler.metadata`, errors);
      const lmd = metadataOf(s.listener?.metadata, `${spath}.listener.metadata`, errors);
      const smd = metadataOf(s.metadata, `${spath}.metadata`, errors);
      // The service's bypass refuses targets where the handler dials (the router), tested on the
      // address after its hosts mapping and resolver.
      const bypass = bypassAt(s, spath, bypasses, errors);
      const lookup = lookupFor(s, spath);
      const handlerRouter = routerFor(s.handler?.chain, `${spath}.handler.chain`, { ...lookup, bypass });
      const listenerRouter = routerFor(s.listener?.chain, `${spath}.listener.chain`, lookup);
      const forwarder = buildForwarder(s.forwarder, `${spath}.forwarder`, errors);
      if (
        FORWARDING_HANDLERS.has(htype) && (!forwarder || forwarder.targets.length === 0) &&
        !handlerRouter.hasChain && !listenerRouter.hasChain
      ) {
        errors.push(
          new ConfigError(
            `${spath}.forwarder`,
            `the ${htype} handler needs a target (e.g. ${htype}://${addr}/host:port) or a chain ending in a forward or relay node`,
          ),
        );
      }
      const slog = log.with({ kind: "service", service: name, listener: ltype, handler: htype });
      const admission = admissionAt(s, spath, admissions, errors);
      const { handler: hauther, listener: lauther } = authersOf(s, spath, htype, ltype, authers, errors);
      try {
        const lf = listeners.get(ltype, `${spath}.listener.type`);
        const hf = handlers.get(htype, `${spath}.handler.type`);
        const lopts = lf.options.parse(lmd, `${spath}.listener.metadata`);
        const hopts = hf.options.parse(hmd, `${spath}.handler.metadata`);
        const places = [[hmd, "handler.metadata"], [lmd, "listener.metadata"], [smd, "metadata"]] as const;
        warnings.push(
          ...metadataWarnings(spath, places, [
            lf.options,
            hf.options,
            selectorKeys,
            sectionKeys,
            limiterKeys,
          ]),
        );
        const listener = lf.create({
          addr,
          path: `${spath}.listener`,
          service: name,
          metadata: lmd,
          auth: s.listener?.auth,
          auther: lauther,
          tls: s.listener?.tls,
          router: listenerRouter,
          log: slog,
        }, lopts);
        const handler = hf.create({
          path: `${spath}.handler`,
          service: name,
          addr,
          listenerType: ltype,
          metadata: hmd,
          auth: s.handler?.auth,
          auther: hauther,
          tls: s.handler?.tls,
          router: handlerRouter,
          forwarder,
          log: slog,
        }, hopts);
        const limits = limitPolicyFor(s, spath, smd, limiters, errors);
        services.push(new Service(name, listener, handler, slog, { admissions: admission, limits }));
      } catch (err) {
        errors.push(err instanceof ConfigError ? err : new ConfigError(spath, errorMessage(err)));
      }
    });
  }
  for (const h of hostsByName.values()) closers.push(() => h.close());
  if (errors.length) {
    for (const close of closers) close();
    return { errors };
  }
  return { runtime: { services, chains, warnings, closers }, errors };
}

function buildForwarder(
  cfg: ForwarderConfig | undefined,
  path: string,
  errors: ConfigError[],
): Forwarder | undefined {
  if (cfg === undefined || cfg === null) return undefined;
  if (!isRecord(cfg)) {
    errors.push(new ConfigError(path, "expected a mapping with nodes"));
    return undefined;
  }
  const targets: Target[] = [];
  const nodes = cfg.nodes ?? [];
  if (!Array.isArray(nodes)) {
    errors.push(new ConfigError(`${path}.nodes`, "expected a list of targets"));
    return undefined;
  }
  nodes.forEach((n, i) => {
    const npath = `${path}.nodes[${i}]`;
    if (!isRecord(n)) return errors.push(new ConfigError(npath, "expected a mapping with addr"));
    const addr = checkAddr(n.addr, `${npath}.addr`, errors);
    let weight = 1;
    if (isRecord(n.metadata) && n.metadata.weight !== undefined) weight = Number(n.metadata.weight) || 1;
    targets.push(new Target(String(n.name ?? `target-${i}`), addr, weight));
  });
  return new Forwarder(targets, buildSelector(cfg.selector, `${path}.selector`, errors));
}
