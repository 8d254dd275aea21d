/**
 * A service's forward targets (`forwarder.nodes`) and how one is reached with failover.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import type { DialContext, Network, Router } from "../core/types.ts";
import { FailMarker, type Selectable, Selector } from "./selector.ts";

/** One forward target. */
export class Target implements Selectable {
  readonly marker = new FailMarker();
  constructor(readonly name: string, readonly addr: string, readonly weight = 1) {}
}

/** A service's targets with their selector. */
export class Forwarder {
  constructor(readonly targets: Target[], readonly selector: Selector = new Selector()) {}

  /**
   * Dials the selected target through `router`; a target that fails is marked and the next
   * one is tried, so the client sees a failure only when every target failed.
   */
  async dial(
    router: Router,
    network: Network,
    ctx: DialContext,
    key = "",
  ): Promise<{ conn: Duplex; target: Target }> {
    const order = this.selector.order(this.targets, key);
    if (order.length === 0) throw new Error("no forward target");
    const errors: string[] = [];
    for (const target of order) {
      try {
        const conn = await router.dial(network, target.addr, ctx);
        target.marker.reset();
        return { conn, target };
      } catch (err) {
        target.marker.mark();
        errors.push(`${target.addr}: ${errorMessage(err)}`);
        ctx.log.debug(`target ${target.name} (${target.addr}) failed: ${errorMessage(err)}`);
      }
    }
    throw new Error(
      errors.length === 1 ? errors[0] : `all ${errors.length} targets failed: ${errors.join("; ")}`,
    );
  }
}
