/**
 * A chain node (dialer + connector at an address) and a hop (a node group with a selector).
 * @module
 */
import type { Bypass } from "../bypass/bypass.ts";
import { defineOptions, opt } from "../core/options.ts";
import type { Connector, Dialer, Network } from "../core/types.ts";
import type { NameLookup } from "../resolver/resolve.ts";
import { FailMarker, type FailOverride, type Selectable, Selector } from "./selector.ts";

/** Node-level metadata gost reads itself (not its connector's or dialer's). */
export const nodeOptions = defineOptions({
  weight: opt.int("weight", 1, { min: 0 }),
  backup: opt.bool("backup", false),
  // A node's own fail settings, over its hop selector's (unset: the selector's).
  maxFails: opt.optional(opt.int("maxFails", 1, { min: 0 })),
  failTimeout: opt.optional(opt.duration("failTimeout", 10_000)),
});

/** One proxy in a chain: reached with `dialer`, spoken to with `connector`. */
export class Node implements Selectable {
  readonly marker = new FailMarker();
  /** The node's (else its hop's) hosts and resolver, for its own address. */
  lookup?: NameLookup;
  constructor(
    readonly name: string,
    readonly addr: string,
    readonly dialer: Dialer,
    readonly connector: Connector,
    readonly weight = 1,
    /** A target this bypass contains skips the node (another node of the hop is used). */
    readonly bypass?: Bypass,
    readonly backup = false,
    readonly fail: FailOverride = {},
  ) {}

  close(): void {
    this.dialer.close?.();
    this.connector.close?.();
  }
}

/** A group of interchangeable nodes at one position of a chain. */
export class Hop {
  /** True when some node has a bypass (the hop then filters its nodes per target). */
  readonly nodeBypass: boolean;
  constructor(
    readonly name: string,
    readonly nodes: Node[],
    readonly selector: Selector = new Selector(),
    /** A target this bypass contains skips the hop and the ones after it (the request goes direct). */
    readonly bypass?: Bypass,
  ) {
    this.nodeBypass = nodes.some((n) => n.bypass);
  }

  /** The nodes that may carry a request to `addr` over `network`. */
  eligible(network: Network, addr: string): readonly Node[] {
    return this.nodeBypass ? this.nodes.filter((n) => !n.bypass?.contains(network, addr)) : this.nodes;
  }
}

/** An ordered list of hops. */
export class Chain {
  constructor(readonly name: string, readonly hops: Hop[]) {}

  close(): void {
    for (const h of this.hops) for (const n of h.nodes) n.close();
  }
}
