/**
 * The `pht` and `phts` dialers: gost's HTTP long-polling tunnel (src/protocol/pht/), in clear
 * or inside TLS. Every connection through a node is one tunnel (a token); the HTTP connections
 * to the node are pooled per node and opened by the `tcp` or `tls` dialer, so that as a later
 * hop of a chain each of them is a new stream through the earlier hops. Options: `authorizePath`
 * (/authorize), `pushPath` (/push), `pullPath` (/pull), `host` (the Host header's host), `header`,
 * and those of the tcp or tls dialer.
 * @module
 */
import { joinHostPort, splitHostPort } from "../core/addr.ts";
import type { Duplex } from "../core/duplex.ts";
import { DialError } from "../core/errors.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import type { DialContext, Dialer } from "../core/types.ts";
import { PhtClient } from "../protocol/pht/client.ts";
import { phtPaths } from "../protocol/pht/wire.ts";
import type { DialerFactory } from "./registry.ts";
import { TcpDialer, tcpDialerOptions } from "./tcp.ts";
import { clientTls, TlsDialer, tlsDialerOptions } from "./tls.ts";

/** The pht options both sides read (gost's names; a path not starting with '/' means the default). */
export const phtPathOptions = {
  authorizePath: opt.string("authorizePath", "/authorize"),
  pushPath: opt.string("pushPath", "/push"),
  pullPath: opt.string("pullPath", "/pull"),
};

const phtDialOptions = {
  ...phtPathOptions,
  host: opt.string("host", ""),
  header: opt.map("header"),
  handshakeTimeout: opt.duration("handshakeTimeout", 15_000),
};

export const phtDialerOptions = defineOptions({ ...tcpDialerOptions.schema, ...phtDialOptions });
export const phtsDialerOptions = defineOptions({ ...tlsDialerOptions.schema, ...phtDialOptions });

type PhtOpts = Options<typeof phtDialerOptions["schema"]>;

/** The pht dialer over `channel` (tcp for pht, tls for phts). */
export class PhtDialer implements Dialer {
  readonly #clients = new Map<string, PhtClient>();
  readonly #ours = new WeakSet<Duplex>();

  constructor(readonly channel: Dialer, readonly opts: PhtOpts) {}

  #client(addr: string, open: () => Promise<Duplex>, ctx: DialContext): PhtClient {
    const o = this.opts;
    return new PhtClient({
      host: o.host ? joinHostPort(hostOnly(o.host), splitHostPort(addr).port) : addr,
      paths: phtPaths(o.authorizePath, o.pushPath, o.pullPath),
      header: o.header,
      open,
      log: ctx.log,
    });
  }

  async dial(addr: string, ctx: DialContext): Promise<Duplex> {
    let client = this.#clients.get(addr);
    if (!client) {
      // The pool outlives this dial: its connections must not carry this dial's signal.
      const base = { log: ctx.log };
      client = this.#client(addr, async () => {
        const conn = await this.channel.dial(addr, base);
        return await this.channel.handshake(conn, addr, base);
      }, ctx);
      this.#clients.set(addr, client);
    }
    const tunnel = await this.#authorize(client, addr);
    this.#ours.add(tunnel);
    return tunnel;
  }

  /** Inside a chain: `conn` is the first HTTP connection, `ctx.redial` opens the others. */
  async handshake(conn: Duplex, addr: string, ctx: DialContext): Promise<Duplex> {
    if (this.#ours.has(conn)) return conn;
    let first: Duplex | null = conn;
    const redial = ctx.redial;
    const client = this.#client(addr, async () => {
      const c = first ?? (redial ? await redial() : null);
      first = null;
      if (!c) throw new Error("pht: a second connection to the node cannot be opened here");
      return await this.channel.handshake(c, addr, ctx);
    }, ctx);
    try {
      const tunnel = await this.#authorize(client, addr);
      return endsClient(tunnel, client);
    } catch (err) {
      client.close();
      throw err;
    }
  }

  async #authorize(client: PhtClient, addr: string): Promise<Duplex> {
    try {
      return await deadline(client.dial("", addr), this.opts.handshakeTimeout, "pht authorize");
    } catch (err) {
      throw new DialError(addr, err);
    }
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}

function hostOnly(host: string): string {
  try {
    return splitHostPort(host).host;
  } catch {
    return host;
  }
}

/** A tunnel whose close also closes the HTTP connections it alone uses. */
function endsClient(tunnel: Duplex, client: PhtClient): Duplex {
  return {
    get readable() {
      return tunnel.readable;
    },
    get writable() {
      return tunnel.writable;
    },
    get direct() {
      return tunnel.direct;
    },
    local: tunnel.local,
    remote: tunnel.remote,
    close() {
      tunnel.close();
      // Let the closing push go out before the connections go.
      setTimeout(() => client.close(), 1_000);
    },
  };
}

export const phtDialer: DialerFactory = {
  options: phtDialerOptions,
  create: (_init, opts) => new PhtDialer(new TcpDialer(opts.dialTimeout), opts),
};

export const phtsDialer: DialerFactory = {
  options: phtsDialerOptions,
  create: (init, opts) => new PhtDialer(new TlsDialer(clientTls(init, opts), opts), opts),
};
