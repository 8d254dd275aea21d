/**
 * The `tcp` listener.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { formatAddr } from "../core/addr.ts";
import { errorMessage } from "../core/errors.ts";
import { heldBack, type Logger, Throttle } from "../core/log.ts";
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

/** The pause after a failed accept before the next try. */
export const ACCEPT_RETRY_MS = 50;

/**
 * A failed accept that is not the listener's own close (out of file descriptors, a
 * connection reset in the queue): logged with its cause, at most once every 5 s, then the
 * next try waits {@link ACCEPT_RETRY_MS} (retrying at once would spin while the cause lasts).
 */
export class AcceptFailures {
  readonly #throttle = new Throttle(5_000);
  constructor(readonly what: string, readonly log?: Logger) {}

  async retry(err: unknown): Promise<void> {
    const held = this.#throttle.pass();
    if (held >= 0) {
      this.log?.warn(
        `${this.what}: accept error: ${errorMessage(err)}; retrying in ${ACCEPT_RETRY_MS}ms${heldBack(held)}`,
      );
    }
    await new Promise((r) => setTimeout(r, ACCEPT_RETRY_MS));
  }
}

/** True for the accept error of a process out of file descriptors (EMFILE/ENFILE). */
export function outOfFiles(err: unknown): boolean {
  return /too many open files|os error 2[34]\b/i.test(errorMessage(err));
}

/** Accepts TCP connections as socket duplexes (TCP_NODELAY set, like Go). */
export class TcpListener implements Listener {
  #l?: Deno.TcpListener;
  #closed = false;
  readonly #failures: AcceptFailures;
  constructor(
    readonly configuredAddr: string,
    readonly opts: { reusePort?: boolean; keepAlive?: boolean; log?: Logger } = {},
  ) {
    this.#failures = new AcceptFailures("tcp", opts.log);
  }

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
        await this.#failures.retry(err);
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
