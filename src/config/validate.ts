/**
 * The first step of a build: checks the shape of the loaded document (untyped: a file, the
 * command line, a Web API change) and turns its chains and services into typed parts, each with
 * its config path, and a {@link ConfigError} for every part that is not well formed.
 *
 * A malformed part is left out (a node that is not a mapping, a chain without hops) or given its
 * default (a handler type that is not a string), so that the assembly (src/service/build.ts) still
 * builds the rest and a start reports every problem at once. Option values are parsed later, by
 * the schema of whoever uses them; names of other sections (bypass, auther, limiter, …) are
 * checked by the builders of those sections.
 * @module
 */
import { splitHostPort } from "../core/addr.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import type { Metadata } from "../core/options.ts";
import { UNENFORCED_SECTIONS, unenforcedSettings } from "./enforcement.ts";
import type { AuthConfig, TLSConfig } from "./types.ts";

// deno-lint-ignore no-explicit-any
type Rec = Record<string, any>;

/** Top-level sections gost-deno turns into components (the rest are warned about). */
export const BUILT_SECTIONS: ReadonlySet<string> = new Set([
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

/** A handler, listener, connector or dialer: its type (defaulted) and what it is given. */
export interface ValidComponent {
  type: string;
  metadata: Metadata;
  auth?: AuthConfig;
  tls?: TLSConfig;
  /** A handler's or listener's `chain`, as written (the assembly checks that it exists). */
  chain?: unknown;
}

/** Where a checked part was written. */
export interface Written {
  /** Its config path (`chains[0].hops[1]`), which its errors start with. */
  path: string;
  /**
   * The mapping as written: the builders of the policy sections (bypass, admission, authers,
   * limiters, hosts, resolver) read the names it gives and check them; log fields use its names.
   */
  raw: Rec;
}

/** A chain node: an address, a connector and a dialer. */
export interface ValidNode extends Written {
  name: string;
  addr: string;
  connector: ValidComponent;
  dialer: ValidComponent;
  metadata: Metadata;
}

/** A hop: at least one node, and its `selector:` mapping if it has one. */
export interface ValidHop extends Written {
  name: string;
  selector?: Metadata;
  nodes: ValidNode[];
}

/** A named chain of hops. */
export interface ValidChain {
  name: string;
  path: string;
  hops: ValidHop[];
}

/** A forward target (`forwarder.nodes[]`). */
export interface ValidTarget {
  name: string;
  addr: string;
  path: string;
  metadata: Metadata;
}

/** A service's `forwarder:`. */
export interface ValidForwarder {
  path: string;
  selector?: Metadata;
  nodes: ValidTarget[];
}

/** A service: an address, a listener and a handler, and its forward targets if any. */
export interface ValidService extends Written {
  name: string;
  addr: string;
  handler: ValidComponent;
  listener: ValidComponent;
  metadata: Metadata;
  forwarder?: ValidForwarder;
}

/** The checked config. */
export interface ValidConfig {
  /** The document as loaded: its policy sections and `workers` go to their own builders. */
  doc: Rec;
  chains: ValidChain[];
  services: ValidService[];
}

/** The outcome of {@link validateConfig}; `config` is absent only when the document is not a mapping. */
export interface Validation {
  config?: ValidConfig;
  errors: ConfigError[];
  /** Sections gost-deno does not build, as warnings. */
  warnings: string[];
}

function isRecord(v: unknown): v is Rec {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/**
 * Checks `doc` and returns its chains and services typed, with every shape problem: the
 * document and its lists, each entry a mapping, names, addresses, component types, metadata
 * mappings, and the restricting settings that are not enforced (enforcement.ts: fail closed).
 */
export function validateConfig(doc: unknown): Validation {
  if (!isRecord(doc)) {
    return {
      errors: [new ConfigError("", "the config must be a mapping with services and chains")],
      warnings: [],
    };
  }
  const errors = unenforcedSettings(doc);
  const warnings = Object.keys(doc).filter((key) => !BUILT_SECTIONS.has(key) && !UNENFORCED_SECTIONS.has(key))
    .map((key) => `${key}: section not supported, ignored`);
  const chains = validChains(doc.chains, errors);
  const services = validServices(doc.services, errors);
  return { config: { doc, chains, services }, errors, warnings };
}

/** Records a problem at `path` and gives nothing to keep: the part is left out. */
function leaveOut(errors: ConfigError[], path: string, why: string): [] {
  errors.push(new ConfigError(path, why));
  return [];
}

function listOf(v: unknown, path: string, why: string, errors: ConfigError[]): unknown[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v;
  errors.push(new ConfigError(path, why));
  return [];
}

function validChains(v: unknown, errors: ConfigError[]): ValidChain[] {
  const names = new Set<string>();
  return listOf(v, "chains", "expected a list of chains", errors).flatMap((c, ci): ValidChain[] => {
    const path = `chains[${ci}]`;
    if (!isRecord(c)) return leaveOut(errors, path, "expected a mapping with name and hops");
    if (typeof c.name !== "string" || !c.name) {
      return leaveOut(errors, `${path}.name`, "a chain needs a name");
    }
    if (names.has(c.name)) {
      errors.push(new ConfigError(`${path}.name`, `duplicate chain name ${JSON.stringify(c.name)}`));
    }
    if (!Array.isArray(c.hops) || c.hops.length === 0) {
      return leaveOut(errors, `${path}.hops`, "a chain needs at least one hop");
    }
    names.add(c.name);
    const hops = c.hops.flatMap((h, hi) => validHop(h, hi, `${path}.hops[${hi}]`, errors));
    return [{ name: c.name, path, hops }];
  });
}

function validHop(h: unknown, hi: number, path: string, errors: ConfigError[]): ValidHop[] {
  if (!isRecord(h)) return leaveOut(errors, path, "expected a mapping with nodes");
  if (!Array.isArray(h.nodes) || h.nodes.length === 0) {
    return leaveOut(errors, `${path}.nodes`, "a hop needs at least one node");
  }
  const selector = selectorOf(h.selector, `${path}.selector`, errors);
  const nodes = h.nodes.flatMap((n, ni) => validNode(n, ni, `${path}.nodes[${ni}]`, errors));
  return [{ name: String(h.name ?? `hop-${hi}`), path, raw: h, selector, nodes }];
}

function validNode(n: unknown, ni: number, path: string, errors: ConfigError[]): ValidNode[] {
  if (!isRecord(n)) return leaveOut(errors, path, "expected a mapping with addr, connector, dialer");
  return [{
    name: String(n.name ?? `node-${ni}`),
    addr: checkAddr(n.addr, `${path}.addr`, errors),
    connector: componentOf(n.connector, "http", `${path}.connector`, errors),
    dialer: componentOf(n.dialer, "tcp", `${path}.dialer`, errors),
    metadata: metadataOf(n.metadata, `${path}.metadata`, errors),
    path,
    raw: n,
  }];
}

function validServices(v: unknown, errors: ConfigError[]): ValidService[] {
  const names = new Set<string>();
  return listOf(v, "services", "expected a list of services", errors).flatMap((s, si): ValidService[] => {
    const path = `services[${si}]`;
    if (!isRecord(s)) return leaveOut(errors, path, "expected a mapping with name, addr, handler, listener");
    const name = typeof s.name === "string" && s.name ? s.name : `service-${si}`;
    if (names.has(name)) {
      errors.push(new ConfigError(`${path}.name`, `duplicate service name ${JSON.stringify(name)}`));
    }
    names.add(name);
    return [{
      name,
      addr: checkAddr(s.addr, `${path}.addr`, errors),
      handler: componentOf(s.handler, "auto", `${path}.handler`, errors),
      listener: componentOf(s.listener, "tcp", `${path}.listener`, errors),
      metadata: metadataOf(s.metadata, `${path}.metadata`, errors),
      forwarder: validForwarder(s.forwarder, `${path}.forwarder`, errors),
      path,
      raw: s,
    }];
  });
}

function validForwarder(cfg: unknown, path: string, errors: ConfigError[]): ValidForwarder | undefined {
  if (cfg === undefined || cfg === null) return undefined;
  if (!isRecord(cfg)) {
    errors.push(new ConfigError(path, "expected a mapping with nodes"));
    return undefined;
  }
  const list = cfg.nodes ?? [];
  if (!Array.isArray(list)) {
    errors.push(new ConfigError(`${path}.nodes`, "expected a list of targets"));
    return undefined;
  }
  const nodes = list.flatMap((n, i): ValidTarget[] => {
    const npath = `${path}.nodes[${i}]`;
    if (!isRecord(n)) return leaveOut(errors, npath, "expected a mapping with addr");
    const addr = checkAddr(n.addr, `${npath}.addr`, errors);
    // Only the weight is read from a target's metadata; anything but a mapping means none.
    const metadata = isRecord(n.metadata) ? n.metadata : {};
    return [{ name: String(n.name ?? `target-${i}`), addr, path: npath, metadata }];
  });
  return { path, selector: selectorOf(cfg.selector, `${path}.selector`, errors), nodes };
}

function selectorOf(v: unknown, path: string, errors: ConfigError[]): Metadata | undefined {
  if (v === undefined || v === null) return undefined;
  if (isRecord(v)) return v;
  errors.push(new ConfigError(path, "expected a mapping with strategy, maxFails, failTimeout"));
  return undefined;
}

function checkAddr(addr: unknown, path: string, errors: ConfigError[]): string {
  if (typeof addr !== "string" || addr === "") {
    errors.push(new ConfigError(path, `missing address (expected "host:port", e.g. ":8080")`));
    return "";
  }
  try {
    splitHostPort(addr);
  } catch (err) {
    errors.push(new ConfigError(path, errorMessage(err)));
  }
  return addr;
}

function componentOf(v: unknown, def: string, path: string, errors: ConfigError[]): ValidComponent {
  const rec = isRecord(v) ? v : {};
  return {
    type: typeOf(v, def, path, errors),
    metadata: metadataOf(rec.metadata, `${path}.metadata`, errors),
    auth: rec.auth,
    tls: rec.tls,
    chain: rec.chain,
  };
}

function metadataOf(v: unknown, path: string, errors: ConfigError[]): Metadata {
  if (v === undefined || v === null) return {};
  if (isRecord(v)) return v;
  errors.push(new ConfigError(path, "expected a mapping of option names to values"));
  return {};
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
