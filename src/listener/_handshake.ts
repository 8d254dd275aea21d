/**
 * The accept loop shared by listeners whose connections need a handshake before a handler
 * may see them (tls, ws, wss): each handshake runs on its own under a deadline, so a slow or
 * silent client never holds up the others, and a failed one is logged with its reason and
 * closed. Finished connections wait in a queue bounded by `backlog`; while it is full (or
 * that many handshakes are under way) no more sockets are accepted.
 * @module
 */
import { formatAddr } from "../core/addr.ts";
import { AcceptQueue } from "../core/accept_queue.ts";
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { opt } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import type { Listener } from "../core/types.ts";

/** Options every handshaking listener reads. */
export const handshakeListenerOptions = {
  backlog: opt.int("backlog", 128, { min: 1 }),
  handshakeTimeout: opt.duration(["handshakeTimeout", "readHeaderTimeout"], 15_000),
  keepAlive: opt.bool(["keepalive", "keepAlive"], false),
  reusePort: opt.bool(["reuseport", "reusePort", "so_reuseport"], false),
};

/** How a handshaking listener binds and upgrades. */
export interface HandshakeSteps {
  /** The name used in log lines ("tls", "ws", "wss"). */
  what: string;
  /** Binds; throws `ListenError`. */
  bind(): Promise<Deno.Listener>;
  /** Turns an accepted socket into the duplex the handler gets. */
  upgrade(conn: Deno.Conn): Promise<Duplex>;
}

/** A listener that runs a handshake on each accepted socket before handing it out. */
export class HandshakeListener implements Listener {
  readonly #steps: HandshakeSteps;
  readonly #backlog: number;
  readonly #timeout: number;
  readonly #keepAlive: boolean;
  readonly #log: Logger;
  #l?: Deno.Listener;
  #closed = false;
  #pending = 0;
  /** Handshaken connections; the accept loop itself keeps within the backlog. */
  readonly #ready = new AcceptQueue<Duplex>(Infinity);
  #room?: () => void;
  #admit?: (remote: string) => boolean;

  constructor(
    steps: HandshakeSteps,
    readonly configuredAddr: string,
    opts: { backlog: number; handshakeTimeout: number; keepAlive?: boolean },
    log: Logger,
  ) {
    this.#steps = steps;
    this.#backlog = opts.backlog;
    this.#timeout = opts.handshakeTimeout;
    this.#keepAlive = opts.keepAlive ?? false;
    this.#log = log;
  }

  gate(admit: (remote: string) => boolean): void {
    this.#admit = admit;
  }

  /** False (and the socket closed) when the service's admission refuses the client. */
  #admitted(conn: Deno.Conn): boolean {
    if (!this.#admit) return true;
    let remote = "";
    try {
      remote = formatAddr(conn.remoteAddr);
    } catch {
      // a socket already reset has no address: refuse it with the rest
    }
    if (remote && this.#admit(remote)) return true;
    try {
      conn.close();
    } catch {
      // already closed
    }
    return false;
  }

  async listen(): Promise<void> {
    this.#l = await this.#steps.bind();
    this.#loop();
  }

  get addr(): string {
    return this.#l ? formatAddr(this.#l.addr) : this.configuredAddr;
  }

  async #loop(): Promise<void> {
    for (;;) {
      while (!this.#closed && this.#pending + this.#ready.size >= this.#backlog) {
        await new Promise<void>((r) => this.#room = r);
      }
      if (this.#closed) return;
      let conn: Deno.Conn;
      try {
        conn = await this.#l!.accept();
      } catch (err) {
        if (this.#closed || err instanceof Deno.errors.BadResource) return;
        // Transient (too many open files, a reset before accept): pause briefly and go on.
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (!this.#admitted(conn)) continue;
      try {
        const tcp = conn as Deno.TcpConn;
        tcp.setNoDelay?.(true);
        if (this.#keepAlive) tcp.setKeepAlive?.(true);
      } catch {
        // the peer may already be gone; the handshake will say so
      }
      this.#pending++;
      this.#handshake(conn).finally(() => {
        this.#pending--;
        this.#wakeLoop();
      });
    }
  }

  #wakeLoop(): void {
    const r = this.#room;
    this.#room = undefined;
    r?.();
  }

  async #handshake(conn: Deno.Conn): Promise<void> {
    let remote = "";
    let local = "";
    try {
      remote = formatAddr(conn.remoteAddr);
      local = formatAddr(conn.localAddr);
    } catch {
      // addresses of a socket already reset are not available
    }
    let closed = false;
    const closeConn = () => {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
    };
    try {
      const d = await deadline(
        this.#steps.upgrade(conn),
        this.#timeout,
        `${this.#steps.what} handshake`,
        closeConn,
      );
      if (!this.#ready.offer(d)) d.close();
    } catch (err) {
      closeConn();
      if (!this.#closed) {
        this.#log.warn(`${this.#steps.what} handshake with ${remote} failed: ${errorMessage(err)}`, {
          remote,
          local,
          client: remote,
        });
      }
    }
  }

  accept(): Promise<Duplex | null> {
    const next = this.#ready.next();
    this.#wakeLoop(); // a taken connection may have made room under the backlog
    return next;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#l?.close();
    } catch {
      // already closed
    }
    this.#ready.close();
    this.#wakeLoop();
  }
}
