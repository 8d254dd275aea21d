/**
 * The `http2` dialer: one HTTP/2 connection over TLS (ALPN h2) per node, shared by every
 * connection through the node (gost's multiplex http2 dialer). It hands the `http2` connector a
 * {@link Http2SessionConn}, not a byte stream: the connector opens one CONNECT stream on it per
 * connection. A connection that died or got GOAWAY is replaced on the next dial.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { defineOptions } from "../core/options.ts";
import type { DialContext, Dialer } from "../core/types.ts";
import { Http2Session } from "../protocol/http2/session.ts";
import { Http2SessionConn } from "../protocol/http2/session_conn.ts";
import { CLIENT_CONNECTION_WINDOW, CLIENT_SETTINGS } from "../protocol/http2/tunnel.ts";
import type { DialerFactory } from "./registry.ts";
import { clientTls, TlsDialer, tlsDialOptions } from "./tls.ts";
import type { Logger } from "../core/log.ts";

export const http2DialerOptions = defineOptions(tlsDialOptions);

/** The `http2` dialer (see the module note). */
export class Http2Dialer implements Dialer {
  readonly #sessions = new Map<string, Promise<Http2SessionConn>>();
  constructor(readonly channel: TlsDialer, readonly log?: Logger) {}

  async dial(addr: string, ctx: DialContext): Promise<Duplex> {
    const live = await this.#sessions.get(addr)?.catch(() => null);
    if (live && !live.session.draining) return live;
    const p = (async () => {
      const carrier = await this.channel.handshake(await this.channel.dial(addr, ctx), addr);
      return new Http2SessionConn(this.#session(carrier), carrier, false);
    })();
    this.#sessions.set(addr, p);
    p.catch(() => this.#sessions.get(addr) === p && this.#sessions.delete(addr));
    return await p;
  }

  async handshake(conn: Duplex, addr: string): Promise<Duplex> {
    if (conn instanceof Http2SessionConn) return conn;
    const carrier = await this.channel.handshake(conn, addr);
    return new Http2SessionConn(this.#session(carrier), carrier, true);
  }

  #session(carrier: Duplex): Http2Session {
    return new Http2Session(carrier, {
      client: true,
      settings: CLIENT_SETTINGS,
      connectionWindowIncrement: CLIENT_CONNECTION_WINDOW,
      log: this.log,
    });
  }

  close(): void {
    for (const p of this.#sessions.values()) p.then((c) => c.session.close(), () => {});
    this.#sessions.clear();
  }
}

export const http2Dialer: DialerFactory = {
  options: http2DialerOptions,
  create: (init, opts) =>
    new Http2Dialer(new TlsDialer({ ...clientTls(init, opts), alpn: ["h2"] }, opts), init.log),
};
