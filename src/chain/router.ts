/**
 * Reaches a destination directly or through a chain, hop by hop: the first node is dialed,
 * each next node is reached through the previous node's connector and its own dialer's
 * handshake then runs over that stream, and the last connector opens the destination.
 * A node that fails is marked and the route is rebuilt with another node of its hop.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import type { BindOptions, DialContext, Listener, Network, Router } from "../core/types.ts";
import { dialTCP } from "../dialer/tcp.ts";
import { dialUDP } from "../dialer/udp.ts";
import { TcpListener } from "../listener/tcp.ts";
import { UdpListener } from "../listener/udp.ts";
import { activeMetrics } from "../metrics/gost.ts";
import type { Chain, Node } from "./node.ts";

/** A local UDP bind keeps each peer's session until it idles out, as remote forwarding wants. */
function udpBindOptions(opts: BindOptions) {
  const set = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return { keepAlive: true, ...set };
}

/** A route through a chain: the stream reaching the last node, and that node. */
interface Route {
  conn: Duplex;
  last: Node;
}

/** A {@link Router} over an optional chain. */
export class ChainRouter implements Router {
  constructor(readonly chain?: Chain) {}

  get hasChain(): boolean {
    return !!this.chain && this.chain.hops.length > 0;
  }

  get chainName(): string | undefined {
    return this.chain?.name;
  }

  async dial(network: Network, addr: string, ctx: DialContext): Promise<Duplex> {
    if (!this.hasChain) return network === "udp" ? dialUDP(addr) : dialTCP(addr, { signal: ctx.signal });
    const route = await this.#route(ctx);
    try {
      return await route.last.connector.connect(route.conn, network, addr, ctx);
    } catch (err) {
      route.conn.close();
      throw err;
    }
  }

  async bind(network: Network, addr: string, ctx: DialContext, opts: BindOptions = {}): Promise<Listener> {
    if (!this.hasChain) {
      const l = network === "udp"
        ? new UdpListener(addr, udpBindOptions(opts))
        : new TcpListener(addr, { log: ctx.log });
      await l.listen();
      return l;
    }
    const route = await this.#route(ctx);
    const connector = route.last.connector;
    if (!connector.bind) {
      route.conn.close();
      throw new Error(
        `node ${route.last.name} (${route.last.addr}): its connector cannot bind (remote forwarding)`,
      );
    }
    try {
      return await connector.bind(route.conn, network, addr, ctx, opts);
    } catch (err) {
      route.conn.close();
      throw err;
    }
  }

  /** Builds a route, trying other nodes of a hop when one fails. */
  async #route(ctx: DialContext): Promise<Route> {
    const hops = this.chain!.hops;
    const attempts = hops.reduce((s, h) => s + Math.max(1, h.nodes.length), 0);
    const tried = new Set<Node>();
    let lastErr: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const nodes = hops.map((h) => {
        const order = h.selector.order(h.nodes);
        return order.find((n) => !tried.has(n)) ?? order[0];
      });
      if (nodes.some((n) => !n)) throw new Error(`chain ${this.chain!.name}: a hop has no nodes`);
      let conn: Duplex | undefined;
      let at = 0;
      try {
        const first = nodes[0];
        const started = activeMetrics && performance.now();
        conn = await first.dialer.dial(first.addr, ctx);
        conn = await first.dialer.handshake(conn, first.addr, ctx);
        if (started) activeMetrics?.nodeConnected(this.chain!.name, first.name, performance.now() - started);
        for (at = 1; at < nodes.length; at++) {
          const next = nodes[at];
          conn = await nodes[at - 1].connector.connect(conn, next.dialer.network ?? "tcp", next.addr, ctx);
          conn = await next.dialer.handshake(conn, next.addr, ctx);
        }
        for (const n of nodes) n.marker.reset();
        return { conn, last: nodes[nodes.length - 1] };
      } catch (err) {
        conn?.close();
        const bad = nodes[Math.min(at, nodes.length - 1)];
        bad.marker.mark();
        activeMetrics?.chainError(this.chain!.name, bad.name);
        tried.add(bad);
        lastErr = err;
        ctx.log.debug(
          `chain ${this.chain!.name}: node ${bad.name} (${bad.addr}) failed: ${errorMessage(err)}`,
        );
      }
    }
    throw new Error(`chain ${this.chain!.name}: no node reachable: ${errorMessage(lastErr)}`, {
      cause: lastErr,
    });
  }
}
