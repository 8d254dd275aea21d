/**
 * A service's forward targets (`forwarder.nodes`) and how one is reached with failover.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { defineOptions, opt } from "../core/options.ts";
import type { DialContext, HandlerContext, Network, Router } from "../core/types.ts";
import { FailMarker, type FailOverride, type Selectable, Selector } from "./selector.ts";

/** A forward target's own metadata (`forwarder.nodes[].metadata`). */
export const targetOptions = defineOptions({
  /** Relative weight for the `rand` strategy; 0 counts as the default 1. */
  weight: opt.int("weight", 1, { min: 0 }),
  // The target's own fail settings, over the forwarder's selector (unset: the selector's).
  maxFails: opt.optional(opt.int("maxFails", 1, { min: 0 })),
  failTimeout: opt.optional(opt.duration("failTimeout", 10_000)),
});

/** One forward target. */
export class Target implements Selectable {
  readonly marker = new FailMarker();
  constructor(
    readonly name: string,
    readonly addr: string,
    readonly weight = 1,
    readonly fail: FailOverride = {},
  ) {}
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

/** True when `forwarder` names targets: the service, not the client, decides where to go. */
export function hasTargets(forwarder: Forwarder | undefined): forwarder is Forwarder {
  return !!forwarder && forwarder.targets.length > 0;
}

/**
 * A handler's way out: one of the service's forward targets when it has any (picked for
 * the client `conn.remote`, with failover), otherwise `addr` through the router. The address
 * dialled goes into the connection's log record (`dst`) before the dial, the target picked
 * once it answered.
 */
export async function dialTarget(
  router: Router,
  forwarder: Forwarder | undefined,
  network: Network,
  addr: string,
  conn: Duplex,
  ctx: HandlerContext,
): Promise<Duplex> {
  const dctx = { log: ctx.log, signal: ctx.signal };
  ctx.record.network = network;
  if (hasTargets(forwarder)) {
    const picked = await forwarder.dial(router, network, dctx, conn.remote);
    ctx.record.dst = picked.target.addr;
    return picked.conn;
  }
  ctx.record.dst = addr;
  return await router.dial(network, addr, dctx);
}
