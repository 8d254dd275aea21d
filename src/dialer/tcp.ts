/**
 * The `tcp` dialer: a plain TCP connection to the node; its handshake does nothing.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { defineOptions, opt } from "../core/options.ts";
import { DEFAULT_DIAL_TIMEOUT, dialTCP } from "../core/socket.ts";
import type { DialContext, Dialer } from "../core/types.ts";

// The connection itself is core's: TLS clients below the dialers open it too.
export { DEFAULT_DIAL_TIMEOUT, dialTCP };

export const tcpDialerOptions = defineOptions({
  dialTimeout: opt.duration(["dialTimeout", "timeout"], DEFAULT_DIAL_TIMEOUT),
});

/** The `tcp` dialer. */
export class TcpDialer implements Dialer {
  constructor(readonly timeout = DEFAULT_DIAL_TIMEOUT) {}
  dial(addr: string, ctx: DialContext): Promise<Duplex> {
    return dialTCP(addr, { timeout: this.timeout, signal: ctx.signal });
  }
  handshake(conn: Duplex): Promise<Duplex> {
    return Promise.resolve(conn);
  }
}
