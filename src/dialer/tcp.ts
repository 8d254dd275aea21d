/**
 * The `tcp` dialer: a plain TCP connection to the node; its handshake does nothing.
 * @module
 */
import { dialHost, splitHostPort } from "../core/addr.ts";
import type { Duplex } from "../core/duplex.ts";
import { DialError } from "../core/errors.ts";
import { defineOptions, opt } from "../core/options.ts";
import { socketDuplex } from "../core/socket.ts";
import { deadline } from "../core/timeout.ts";
import type { DialContext, Dialer } from "../core/types.ts";

/** Default time allowed to establish a TCP connection. */
export const DEFAULT_DIAL_TIMEOUT = 10_000;

/** Connects to `addr` (`host:port`; an empty host means the local host). */
export async function dialTCP(
  addr: string,
  opts: { timeout?: number; signal?: AbortSignal } = {},
): Promise<Duplex> {
  const { host, port } = splitHostPort(addr);
  const timeout = opts.timeout ?? DEFAULT_DIAL_TIMEOUT;
  let conn: Deno.TcpConn;
  try {
    const p = Deno.connect({ hostname: dialHost(host), port, transport: "tcp", signal: opts.signal });
    conn = await deadline(p, timeout, "connect");
  } catch (err) {
    throw new DialError(addr, err);
  }
  try {
    conn.setNoDelay(true);
  } catch {
    // not fatal: only affects latency of small writes
  }
  return socketDuplex(conn);
}

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
