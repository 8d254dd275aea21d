/**
 * Assembly of chains from the checked config (src/config/validate.ts): each hop becomes a
 * {@link Hop} with its selector, each node a {@link Node} with its connector and dialer built and
 * its options parsed. A node whose components fail is left out, its error collected.
 * @module
 */
import type { Bypass } from "../bypass/bypass.ts";
import { bypassAt } from "../bypass/build.ts";
import { Chain, Hop, Node, nodeOptions } from "../chain/node.ts";
import { selectorFrom } from "../chain/selector.ts";
import type { ValidChain, ValidComponent, ValidHop, ValidNode } from "../config/validate.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { defineOptions, metadataWarnings, opt } from "../core/options.ts";
import { connectors } from "../connector/mod.ts";
import { dialers } from "../dialer/mod.ts";
import type { NameRefs } from "../resolver/build.ts";
import type { NameLookup } from "../resolver/resolve.ts";

/** What every assembly step is given: the bypasses built so far, and where problems go. */
export interface Scope {
  errors: ConfigError[];
  warnings: string[];
  log: Logger;
  bypasses: Map<string, Bypass>;
}

/**
 * Query keys the CLI turns into top-level sections (`?bypass=`, `?admission=`, `?hosts=`,
 * `?resolver=`, `?prefer=`) and, as gost does, also leaves in the metadata: enforced through the
 * section, so not "unknown, ignored" there.
 */
export const sectionKeys = defineOptions({
  bypass: opt.string("bypass", ""),
  admission: opt.string("admission", ""),
  hosts: opt.string("hosts", ""),
  resolver: opt.string("resolver", ""),
  prefer: opt.string("prefer", ""),
});

/** A built node and the checked parts it came from, for linking its hosts and resolver later. */
export interface BuiltNode {
  node: Node;
  cfg: ValidNode;
  hop: ValidHop;
}

/** The hosts and resolver an owner names (a config error for a name not defined). */
export type LookupFor = (owner: NameRefs, path: string) => NameLookup | undefined;

/** Builds every chain by name (a duplicate name, already an error, keeps the last). */
export function buildChains(cfgs: ValidChain[], scope: Scope, built: BuiltNode[]): Map<string, Chain> {
  const chains = new Map<string, Chain>();
  for (const c of cfgs) chains.set(c.name, buildChain(c, scope, built));
  return chains;
}

/** One chain; its nodes are added to `built`. */
export function buildChain(c: ValidChain, scope: Scope, built: BuiltNode[]): Chain {
  return new Chain(c.name, c.hops.map((h) => buildHop(h, c, scope, built)));
}

/** One hop of chain `c`: its selector, the nodes that build, its bypass. */
export function buildHop(h: ValidHop, c: ValidChain, scope: Scope, built: BuiltNode[]): Hop {
  const selector = selectorFrom(h.selector, `${h.path}.selector`, scope.errors);
  const nodes: Node[] = [];
  for (const n of h.nodes) {
    // Log fields carry the names as written (an unnamed hop or node has none).
    const node = buildNode(n, scope, scope.log.with({ chain: c.name, hop: h.raw.name, node: n.raw.name }));
    if (!node) continue;
    nodes.push(node);
    built.push({ node, cfg: n, hop: h });
  }
  return new Hop(h.name, nodes, selector, bypassAt(h.raw, h.path, scope.bypasses, scope.errors));
}

/** One node, or undefined (with its error in `scope.errors`) when a component cannot be built. */
export function buildNode(n: ValidNode, scope: Scope, log: Logger): Node | undefined {
  const { path, addr, connector: c, dialer: d } = n;
  try {
    const cf = connectors.get(c.type, `${path}.connector.type`);
    const df = dialers.get(d.type, `${path}.dialer.type`);
    const copts = cf.options.parse(c.metadata, `${path}.connector.metadata`);
    const dopts = df.options.parse(d.metadata, `${path}.dialer.metadata`);
    const nopts = nodeOptions.parse(n.metadata, `${path}.metadata`);
    const places = [[c.metadata, "connector.metadata"], [d.metadata, "dialer.metadata"], [
      n.metadata,
      "metadata",
    ]] as const;
    scope.warnings.push(
      ...metadataWarnings(path, places, [cf.options, df.options, nodeOptions, sectionKeys]),
    );
    const given = (part: "connector" | "dialer", v: ValidComponent) => ({
      path: `${path}.${part}`,
      nodeAddr: addr,
      metadata: v.metadata,
      auth: v.auth,
      tls: v.tls,
      log,
    });
    const connector = cf.create(given("connector", c), copts);
    const dialer = df.create(given("dialer", d), dopts);
    const bypass = bypassAt(n.raw, path, scope.bypasses, scope.errors);
    const fail = { maxFails: nopts.maxFails, failTimeout: nopts.failTimeout };
    return new Node(n.name, addr, dialer, connector, nopts.weight, bypass, nopts.backup, fail);
  } catch (err) {
    scope.errors.push(err instanceof ConfigError ? err : new ConfigError(path, errorMessage(err)));
    return undefined;
  }
}

/** Gives each built node its hosts and resolver: its own, else its hop's. */
export function linkLookups(built: BuiltNode[], lookupFor: LookupFor): void {
  for (const { node, cfg, hop } of built) {
    const r = lookupFor(
      { resolver: cfg.raw.resolver || hop.raw.resolver },
      cfg.raw.resolver ? cfg.path : hop.path,
    );
    const hm = lookupFor({ hosts: cfg.raw.hosts || hop.raw.hosts }, cfg.raw.hosts ? cfg.path : hop.path);
    if (r || hm) node.lookup = { resolver: r?.resolver, hosts: hm?.hosts };
  }
}
