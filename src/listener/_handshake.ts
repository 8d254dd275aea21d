/**
 * The accept loop shared by listeners whose connections need a handshake before a handler
 * may see them (tls, ws, wss). The loop keeps taking sockets from the kernel; each handshake
 * runs on its own under `handshakeTimeout`, so a slow, silent or vanished client holds only
 * its own socket, never the port. Bounds, none of which turns a newcomer away:
 * - `backlog`: handshaken connections waiting for `accept()` (gost's queue); one finishing
 *   while it is full is closed, as gost does.
 * - `maxHandshakes`: handshakes under way; a new socket over it ends the oldest handshake.
 *   An accept failing for lack of file descriptors also ends the oldest one, so idle
 *   sockets cannot starve the listener of descriptors either.
 * @module
 */
import { formatAddr } from "../core/addr.ts";
import { AcceptQueue } from "../core/accept_queue.ts";
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { heldBack, type Logger, Throttle } from "../core/log.ts";
import { opt } from "../core/options.ts";
import type { AcceptingSocket } from "../core/listen.ts";
import { deadline } from "../core/timeout.ts";
import type { Listener } from "../core/types.ts";
import { AcceptFailures, outOfFiles } from "./tcp.ts";

/** Options every handshaking listener reads. */
export const handshakeListenerOptions = {
  backlog: opt.int("backlog", 128, { min: 1 }),
  handshakeTimeout: opt.duration(["handshakeTimeout", "readHeaderTimeout"], 15_000),
  maxHandshakes: opt.int("maxHandshakes", 2048, { min: 1 }),
  keepAlive: opt.bool(["keepalive", "keepAlive"], false),
  reusePort: opt.bool(["reuseport", "reusePort", "so_reuseport"], false),
};

/** How a handshaking listener binds and upgrades. */
export interface HandshakeSteps {
  /** The name used in log lines ("tls", "ws", "wss"). */
  what: string;
  /** Binds; throws `ListenError`. */
  bind(): Promise<AcceptingSocket>;
  /** Turns an accepted socket into the duplex the handler gets. */
  upgrade(conn: Deno.Conn): Promise<Duplex>;
}

/** A listener that runs a handshake on each accepted socket before handing it out. */
export class HandshakeListener implements Listener {
  readonly #steps: HandshakeSteps;
  readonly #timeout: number;
  readonly #maxHandshakes: number;
  readonly #keepAlive: boolean;
  readonly #log: Logger;
  readonly #failures: AcceptFailures;
  /** Evictions and full-queue drops are logged at most this often. */
  readonly #shedLog = new Throttle(5_000);
  #l?: AcceptingSocket;
  #closed = false;
  /** Handshakes under way, oldest first (a Map keeps insertion order): each one's abort. */
  readonly #pending = new Map<number, () => void>();
  #seq = 0;
  /** Handshaken connections waiting for `accept()`. */
  readonly #ready: AcceptQueue<Duplex>;
  #admit?: (remote: string) => boolean;

  constructor(
    steps: HandshakeSteps,
    readonly configuredAddr: string,
    opts: { backlog: number; handshakeTimeout: number; maxHandshakes?: number; keepAlive?: boolean },
    log: Logger,
  ) {
    this.#steps = steps;
    this.#ready = new AcceptQueue<Duplex>(opts.backlog);
    this.#timeout = opts.handshakeTimeout;
    this.#maxHandshakes = opts.maxHandshakes ?? 2048;
    this.#keepAlive = opts.keepAlive ?? false;
    this.#log = log;
    this.#failures = new AcceptFailures(steps.what, log);
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

  /** Handshakes under way (for tests and stats). */
  get handshaking(): number {
    return this.#pending.size;
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.Conn;
      try {
        conn = await this.#l!.accept();
      } catch (err) {
        if (this.#closed || err instanceof Deno.errors.BadResource) return;
        // Out of descriptors with handshakes under way: the oldest gives its socket up
        // (released once its pending read ends, hence the short pause).
        if (outOfFiles(err) && this.#evictOldest("out of file descriptors")) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        await this.#failures.retry(err);
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
      if (this.#pending.size >= this.#maxHandshakes) {
        this.#evictOldest(`${this.#maxHandshakes} handshakes under way (maxHandshakes)`);
      }
      this.#handshake(conn, this.#seq++);
    }
  }

  /** Ends the longest-running handshake; false when none is under way. */
  #evictOldest(why: string): boolean {
    const oldest = this.#pending.entries().next();
    if (oldest.done) return false;
    this.#pending.delete(oldest.value[0]);
    oldest.value[1]();
    this.#shed(`${this.#steps.what}: ${why}: ended the oldest handshake`);
    return true;
  }

  #shed(msg: string): void {
    const held = this.#shedLog.pass();
    if (held >= 0) this.#log.warn(msg + heldBack(held));
  }

  async #handshake(conn: Deno.Conn, id: number): Promise<void> {
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
    this.#pending.set(id, closeConn);
    try {
      const d = await deadline(
        this.#steps.upgrade(conn),
        this.#timeout,
        `${this.#steps.what} handshake`,
        closeConn,
      );
      if (!this.#pending.delete(id)) {
        d.close(); // evicted (or the listener closed) as it finished
        return;
      }
      if (!this.#ready.offer(d)) {
        d.close();
        if (!this.#closed) {
          this.#shed(
            `${this.#steps.what}: ${this.#ready.backlog} connections wait for the handler (backlog): closed ${remote}`,
          );
        }
      }
    } catch (err) {
      const evicted = !this.#pending.delete(id);
      closeConn();
      if (!this.#closed && !evicted) {
        this.#log.warn(`${this.#steps.what} handshake with ${remote} failed: ${errorMessage(err)}`, {
          remote,
          local,
          client: remote,
        });
      }
    }
  }

  accept(): Promise<Duplex | null> {
    return this.#ready.next();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#l?.close();
    } catch {
      // already closed
    }
    for (const abort of this.#pending.values()) abort();
    this.#pending.clear();
    this.#ready.close();
  }
}
