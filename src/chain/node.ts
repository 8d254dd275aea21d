/**
 * A chain node (dialer + connector at an address) and a hop (a node group with a selector).
 * @module
 */
import type { Connector, Dialer } from "../core/types.ts";
import { FailMarker, type Selectable, Selector } from "./selector.ts";

/** One proxy in a chain: reached with `dialer`, spoken to with `connector`. */
export class Node implements Selectable {
  readonly marker = new FailMarker();
  constructor(
    readonly name: string,
    readonly addr: string,
    readonly dialer: Dialer,
    readonly connector: Connector,
    readonly weight = 1,
    readonly backup = false,
  ) {}

  close(): void {
    this.dialer.close?.();
    this.connector.close?.();
  }
}

/** A group of interchangeable nodes at one position of a chain. */
export class Hop {
  constructor(readonly name: string, readonly nodes: Node[], readonly selector: Selector = new Selector()) {}
}

/** An ordered list of hops. */
export class Chain {
  constructor(readonly name: string, readonly hops: Hop[]) {}

  close(): void {
    for (const h of this.hops) for (const n of h.nodes) n.close();
  }
}
