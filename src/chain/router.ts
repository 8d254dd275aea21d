/**
 * Reaches a destination directly or through a chain, hop by hop: the first node is dialed,
 * each next node is reached through the previous node's connector and its own dialer's
 * handshake then runs over that stream, and the last connector opens the destination.
 * A node that fails is marked and the route is rebuilt with another node of its hop.
 * @module
 */
import type { Bypass } from "../bypass/bypass.ts";
import type { Duplex } from "../core/duplex.ts";
import { BypassError, errorMessage } from "../core/errors.ts";
import type { BindOptions, DialContext, Listener, Network, Router } from "../core/types.ts";
import { dialTCP } from "../dialer/tcp.ts";
import { dialUDP } from "../dialer/udp.ts";
import { TcpListener } from "../listener/tcp.ts";
import { UdpListener } from "../listener/udp.ts";
import { hasLookup, type NameLookup, resolveAddr } from "../resolver/resolve.ts";
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

/** Where a node's address is dialled: its name looked up when it has hosts or a resolver. */
function nodeAddr(n: Node, ctx: DialContext): string | Promise<string> {
  return hasLookup(n.lookup) ? resolveAddr(n.addr, n.lookup, ctx) : n.addr;
}

/**
 * What a service adds to its router: the checks on a request's target. `hosts` and `resolver`:
 * the target's name is looked up before anything else, as gost does (with neither, the name goes
 * on unchanged and the dialer or the last proxy resolves it).
 */
export interface RouterPolicy extends NameLookup {
  /** The service-level bypass: a target it contains is refused with {@link BypassError}. */
  bypass?: Bypass;
}

/** A {@link Router} over an optional chain. */
export class ChainRouter implements Router {
  constructor(readonly chain?: Chain, readonly policy: RouterPolicy = {}) {}

  /** The target as it will be dialled: after the service's hosts mapping and resolver. */
  resolveTarget(addr: string, ctx: DialContext): string | Promise<string> {
    return hasLookup(this.policy) ? resolveAddr(addr, this.policy, ctx) : addr;
  }

  /**
   * The target checks before a dial or bind, on the address after the service's hosts mapping
   * and resolver (measured on gost 3.2.6); a name is not resolved to match it (`localhost` is
   * not `127.0.0.1`) unless hosts or a resolver mapped it.
   */
  #check(network: Network, addr: string): string {
    if (this.policy.bypass?.contains(network, addr)) throw new BypassError(addr);
    return addr;
  }

  get hasChain(): boolean {
    return !!this.chain && this.chain.hops.length > 0;
  }

  get chainName(): string | undefined {
    return this.chain?.name;
  }

  async dial(network: Network, addr: string, ctx: DialContext): Promise<Duplex> {
    const resolved = this.resolveTarget(addr, ctx);
    addr = this.#check(network, typeof resolved === "string" ? resolved : await resolved);
    const route = this.hasChain ? await this.#route(network, addr, ctx) : null;
    if (!route) return network === "udp" ? dialUDP(addr) : dialTCP(addr, { signal: ctx.signal });
    try {
      return await route.last.connector.connect(route.conn, network, addr, ctx);
    } catch (err) {
      route.conn.close();
      throw err;
    }
  }

  async bind(network: Network, addr: string, ctx: DialContext, opts: BindOptions = {}): Promise<Listener> {
    addr = this.#check(network, addr);
    const route = this.hasChain ? await this.#route(network, addr, ctx) : null;
    if (!route) {
      const l = network === "udp"
        ? new UdpListener(addr, udpBindOptions(opts))
        : new TcpListener(addr, { log: ctx.log });
      await l.listen();
      return l;
    }
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

  /**
   * The nodes of one attempt. As in gost, a hop whose bypass contains the target, or whose
   * nodes' bypasses all do, ends the route there: the hops before it carry the request (none:
   * it goes direct).
   */
  #pick(network: Network, addr: string, tried: Set<Node>): Node[] {
    const nodes: Node[] = [];
    for (const h of this.chain!.hops) {
      if (h.bypass?.contains(network, addr)) break;
      const eligible = h.eligible(network, addr);
      if (eligible.length === 0) break;
      const order = h.selector.order(eligible);
      nodes.push(order.find((n) => !tried.has(n)) ?? order[0]);
    }
    return nodes;
  }

  /** Builds a route, trying other nodes of a hop when one fails; null when the target goes direct. */
  async #route(network: Network, addr: string, ctx: DialContext): Promise<Route | null> {
    const hops = this.chain!.hops;
    const attempts = hops.reduce((s, h) => s + Math.max(1, h.nodes.length), 0);
    const tried = new Set<Node>();
    let lastErr: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const nodes = this.#pick(network, addr, tried);
      if (nodes.length === 0) {
        ctx.log.debug(`chain ${this.chain!.name}: ${addr} bypasses the chain, dialing direct`);
        return null;
      }
      if (nodes.some((n) => !n)) throw new Error(`chain ${this.chain!.name}: a hop has no nodes`);
      let conn: Duplex | undefined;
      let at = 0;
      try {
        const first = nodes[0];
        const started = activeMetrics && performance.now();
        conn = await first.dialer.dial(await nodeAddr(first, ctx), ctx);
        conn = await first.dialer.handshake(conn, first.addr, ctx);
        if (started) activeMetrics?.nodeConnected(this.chain!.name, first.name, performance.now() - started);
        for (at = 1; at < nodes.length; at++) {
          const next = nodes[at];
          const addr = await nodeAddr(next, ctx);
          conn = await nodes[at - 1].connector.connect(conn, next.dialer.network ?? "tcp", addr, ctx);
          const upTo = nodes.slice(0, at + 1);
          const redial = () => openThrough(upTo, ctx);
          conn = await next.dialer.handshake(conn, next.addr, { ...ctx, redial });
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

/** A stream to the last of `nodes` through the others (what a later hop's `redial` opens). */
async function openThrough(nodes: Node[], ctx: DialContext): Promise<Duplex> {
  let conn = await nodes[0].dialer.dial(await nodeAddr(nodes[0], ctx), ctx);
  try {
    conn = await nodes[0].dialer.handshake(conn, nodes[0].addr, ctx);
    for (let i = 1; i < nodes.length; i++) {
      const next = nodes[i];
      conn = await nodes[i - 1].connector.connect(
        conn,
        next.dialer.network ?? "tcp",
        await nodeAddr(next, ctx),
        ctx,
      );
      if (i < nodes.length - 1) conn = await next.dialer.handshake(conn, next.addr, ctx);
    }
    return conn;
  } catch (err) {
    conn.close();
    throw err;
  }
}
