/**
 * A service: a listener and a handler. Accepts connections, hands each to the handler,
 * logs one line per connection, and on close ends every live connection it started.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import type { Level, Logger } from "../core/log.ts";
import type { ConnRecord, Handler, Listener } from "../core/types.ts";
import type { Admitted, LimitPolicy } from "../limiter/policy.ts";

/** Checks a service makes on each connection it accepts, before its handler sees it. */
export interface ServicePolicy {
  /** climiter, rlimiter (refuse at accept) and the traffic limiter (wraps the connection). */
  limits?: LimitPolicy;
}

/** A running (or ready to run) service. */
export class Service {
  readonly #live = new Set<Duplex>();
  readonly #serving = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #loop?: Promise<void>;
  #closed = false;
  #accepting = false;
  #started = false;

  constructor(
    readonly name: string,
    readonly listener: Listener,
    readonly handler: Handler,
    readonly log: Logger,
    readonly policy: ServicePolicy = {},
  ) {}

  /** Connections being served right now. */
  get liveConnections(): number {
    return this.#live.size;
  }

  /**
   * Binds the listener (throws `ListenError`) and starts accepting. `announce` is the level of
   * the "listening on" line (a worker thread repeating the service says it at debug).
   */
  async start(announce: Level = "info"): Promise<void> {
    await this.listener.listen();
    this.#started = true;
    this.policy.limits?.start();
    this.log.log(announce, `listening on ${this.listener.addr}`);
    this.#accepting = true;
    this.#loop = this.#acceptLoop();
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Duplex | null;
      try {
        conn = await this.listener.accept();
      } catch (err) {
        if (this.#closed || !this.#accepting) break;
        this.log.error(`accept: ${errorMessage(err)}`);
        continue;
      }
      if (!conn) break;
      const p = this.#serve(conn);
      this.#serving.add(p);
      p.finally(() => this.#serving.delete(p));
    }
  }

  async #serve(conn: Duplex): Promise<void> {
    const log = this.log.with({ remote: conn.remote, local: conn.local, client: conn.remote });
    const admitted = this.#limit(conn, log);
    if (!admitted) return;
    conn = admitted.conn;
    this.#live.add(conn);
    const started = performance.now();
    const record: ConnRecord = {};
    try {
      await this.handler.handle(conn, { log, record, signal: this.#abort.signal });
    } catch (err) {
      if (!this.#closed) {
        log.error(errorMessage(err), { dst: record.dst, ...counts(record) });
      }
    } finally {
      conn.close();
      admitted.done?.();
      this.#live.delete(conn);
      log.info(`${conn.remote} >< ${record.dst ?? ""}`, {
        dst: record.dst,
        duration: `${((performance.now() - started) / 1000).toFixed(6)}s`,
        ...counts(record),
      });
    }
  }

  /** The connection as the handler gets it, or null when a limiter refused it (closed, logged). */
  #limit(conn: Duplex, log: Logger): Partial<Admitted> & { conn: Duplex } | null {
    const limits = this.policy.limits;
    if (!limits) return { conn };
    const admitted = limits.admit(conn, log);
    if (!admitted) conn.close();
    return admitted;
  }

  /**
   * Stops accepting new connections and releases the listen address, leaving live connections
   * to finish (a reload hands the port to the service's replacement this way). Listeners that
   * carry every client over one socket (udp, kcp, rudp) end their sessions with it.
   */
  async stopAccepting(): Promise<void> {
    if (!this.#accepting) return;
    this.#accepting = false;
    this.listener.close();
    await this.#loop;
  }

  /** Resolves once every live connection has finished on its own. */
  async drained(): Promise<void> {
    while (this.#serving.size) await Promise.allSettled([...this.#serving]);
  }

  /**
   * Stops accepting and closes every live connection; resolves once their handlers have
   * finished (and logged), or after `graceMs` at the latest.
   */
  async close(graceMs = 2000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#accepting = false;
    this.#abort.abort();
    this.listener.close();
    for (const c of this.#live) c.close();
    this.handler.close?.();
    if (this.#started) this.policy.limits?.stop();
    await this.#loop;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#serving]),
      new Promise((r) => timer = setTimeout(r, graceMs)),
    ]);
    clearTimeout(timer);
  }
}

function counts(r: ConnRecord) {
  return { inputBytes: r.inputBytes ?? 0, outputBytes: r.outputBytes ?? 0 };
}
