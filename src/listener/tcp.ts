/**
 * The `tcp` listener.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { formatAddr } from "../core/addr.ts";
import { listenTCP } from "../core/listen.ts";
import { defineOptions, opt } from "../core/options.ts";
import { socketDuplex } from "../core/socket.ts";
import type { Listener } from "../core/types.ts";

/** Re-exported: the other stream listeners bind through it. */
export { listenTCP };

export const tcpListenerOptions = defineOptions({
  keepAlive: opt.bool(["keepalive", "keepAlive"], false),
  reusePort: opt.bool(["reuseport", "reusePort", "so_reuseport"], false),
});

/** Accepts TCP connections as socket duplexes (TCP_NODELAY set, like Go). */
export class TcpListener implements Listener {
  #l?: Deno.TcpListener;
  #closed = false;
  constructor(
    readonly configuredAddr: string,
    readonly opts: { reusePort?: boolean; keepAlive?: boolean } = {},
  ) {}

  listen(): Promise<void> {
    this.#l = listenTCP(this.configuredAddr, this.opts.reusePort);
    return Promise.resolve();
  }

  get addr(): string {
    return this.#l ? formatAddr(this.#l.addr) : this.configuredAddr;
  }

  async accept(): Promise<Duplex | null> {
    for (;;) {
      if (this.#closed || !this.#l) return null;
      let conn: Deno.TcpConn;
      try {
        conn = await this.#l.accept();
      } catch (err) {
        if (this.#closed || err instanceof Deno.errors.BadResource) return null;
        // Transient (too many open files, aborted handshake): pause briefly and go on.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      try {
        conn.setNoDelay(true);
        // gost's keepAlive: TCP keep-alive probes on accepted connections (the OS's period).
        if (this.opts.keepAlive) conn.setKeepAlive(true);
      } catch {
        // the peer may already be gone; the handler will see it
      }
      return socketDuplex(conn);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#l?.close();
    } catch {
      // already closed
    }
  }
}
