/**
 * The `wss` dialer: the `tls` dialer's handshake, then the `ws` dialer's upgrade inside it.
 * SNI defaults to `serverName`, else the `host` option's host, else the node's host.
 * @module
 */
import { splitHostPort } from "../core/addr.ts";
import type { Duplex } from "../core/duplex.ts";
import { defineOptions, type Options } from "../core/options.ts";
import type { DialContext, Dialer } from "../core/types.ts";
import type { DialerFactory } from "./registry.ts";
import { dialTlsTransport } from "../core/tls/client.ts";
import { type ClientTls, clientTls, tlsDialOptions, tlsHandshake } from "./tls.ts";
import { wsDialOptions, wsHandshake } from "./ws.ts";

export const wssDialerOptions = defineOptions({ ...tlsDialOptions, ...wsDialOptions });

type WssDialOpts = Options<typeof wssDialerOptions["schema"]>;

function hostOf(host: string): string {
  try {
    return splitHostPort(host).host;
  } catch {
    return host; // a Host option without a port
  }
}

/** The `wss` dialer. */
export class WssDialer implements Dialer {
  readonly #tls: ClientTls;
  constructor(cfg: ClientTls, readonly opts: WssDialOpts) {
    this.#tls = { ...cfg, serverName: cfg.serverName || (opts.host ? hostOf(opts.host) : "") };
  }

  dial(addr: string, ctx: DialContext): Promise<Duplex> {
    return dialTlsTransport(addr, { timeout: this.opts.dialTimeout, signal: ctx.signal, tls: this.#tls });
  }

  async handshake(conn: Duplex, addr: string): Promise<Duplex> {
    const secured = await tlsHandshake(conn, addr, this.#tls, this.opts.handshakeTimeout);
    return wsHandshake(secured, addr, this.opts);
  }
}

export const wssDialer: DialerFactory = {
  options: wssDialerOptions,
  create: (init, opts) => new WssDialer(clientTls(init, opts), opts),
};
