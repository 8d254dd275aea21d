/**
 * The `tls` dialer: `dial` opens TCP; `handshake` runs TLS over whatever stream reaches the
 * node (that TCP connection, or a tunnel through earlier hops). Verification is off unless
 * `secure=true` (gost's default); `serverName` sets SNI (default: the node's host);
 * `certFile`/`keyFile` present a client certificate; `caFile` pins the roots.
 * @module
 */
import { splitHostPort } from "../core/addr.ts";
import type { Duplex } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import { dialTlsTransport, tlsConnect } from "../core/tls/client.ts";
import { readTlsFiles, tlsClientOptions, type TlsMaterial } from "../core/tls/config.ts";
import { TlsClientCache } from "../core/tls/client_cache.ts";
import type { DialContext, Dialer } from "../core/types.ts";
import type { DialerFactory, DialerInit } from "./registry.ts";
import { DEFAULT_DIAL_TIMEOUT } from "./tcp.ts";

/** Options of the TLS client side, shared with wss. */
export const tlsDialOptions = {
  ...tlsClientOptions,
  handshakeTimeout: opt.duration("handshakeTimeout", 15_000),
  dialTimeout: opt.duration(["dialTimeout", "timeout"], DEFAULT_DIAL_TIMEOUT),
  keepAlive: opt.bool(["keepalive", "keepAlive", "tcp.keepalive"], false),
};

export const tlsDialerOptions = defineOptions(tlsDialOptions);

type TlsDialOpts = Options<typeof tlsDialerOptions["schema"]>;

/** Resolved client TLS settings of a node. */
export interface ClientTls extends TlsMaterial {
  secure: boolean;
  /** Configured server name; empty: the node's host. */
  serverName: string;
  /** ALPN protocols offered (h2 and gRPC channels offer "h2"). */
  alpn?: string[];
  /** The node's secure context and resumable sessions, shared by its connections. */
  cache: TlsClientCache;
}

/** Reads the client TLS settings: the `tls` block first, metadata second. */
export function clientTls(init: DialerInit, opts: TlsDialOpts): ClientTls {
  const material = readTlsFiles(init.tls, opts, init.path);
  const secure = init.tls?.secure ?? opts.secure;
  return {
    ...material,
    secure,
    serverName: init.tls?.serverName || opts.serverName,
    cache: new TlsClientCache(material, !secure),
  };
}

/** The TLS client handshake over `conn`, closed when it fails or exceeds `timeout`. */
export function tlsHandshake(conn: Duplex, addr: string, cfg: ClientTls, timeout: number): Promise<Duplex> {
  const serverName = cfg.serverName || splitHostPort(addr).host;
  return deadline(
    tlsConnect(conn, { ...cfg, serverName, addr }),
    timeout,
    `tls handshake with ${addr}`,
    () => conn.close(),
  );
}

/** The `tls` dialer. */
export class TlsDialer implements Dialer {
  constructor(readonly cfg: ClientTls, readonly opts: TlsDialOpts) {}

  dial(addr: string, ctx: DialContext): Promise<Duplex> {
    return dialTlsTransport(addr, {
      timeout: this.opts.dialTimeout,
      signal: ctx.signal,
      keepAlive: this.opts.keepAlive,
      tls: this.cfg,
    });
  }

  handshake(conn: Duplex, addr: string): Promise<Duplex> {
    return tlsHandshake(conn, addr, this.cfg, this.opts.handshakeTimeout);
  }
}

export const tlsDialer: DialerFactory = {
  options: tlsDialerOptions,
  create: (init, opts) => new TlsDialer(clientTls(init, opts), opts),
};
