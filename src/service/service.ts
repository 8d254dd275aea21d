/**
 * A service: a listener and a handler. Accepts connections, hands each to the handler,
 * logs one line per connection, and on close ends every live connection it started.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { BypassError, errorMessage } from "../core/errors.ts";
import { type Level, LogDuration, type Logger } from "../core/log.ts";
import type { ConnRecord, Handler, Listener } from "../core/types.ts";
import { newXid } from "../core/xid.ts";
import type { Admission } from "../admission/admission.ts";
import type { Admitted, LimitPolicy } from "../limiter/policy.ts";
import { activeMetrics, clientIP } from "../metrics/gost.ts";

/** Checks a service makes on each accepted connection, before the handler reads a byte. */
export interface ServicePolicy {
  /** The client's address must be admitted, else the connection is closed at once, unanswered. */
  admissions?: Admission;
  /** climiter, rlimiter (refuse at accept) and the traffic limiter (wraps the connection). */
  limits?: LimitPolicy;
}

/** A service's lifetime counts, as gost's per-service stats (the Web API's `status.stats`). */
export interface ServiceStats {
  totalConns: number;
  totalErrs: number;
  inputBytes: number;
  outputBytes: number;
}

/** What happened to a service (gost's status events): a time in seconds and a message. */
export interface ServiceEvent {
  time: number;
  msg: string;
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
  /** Counted for every connection once it ends (`totalConns` at accept). */
  readonly stats: ServiceStats = { totalConns: 0, totalErrs: 0, inputBytes: 0, outputBytes: 0 };
  /** gost's states: running (built), ready (listening), closed. */
  state: "running" | "ready" | "closed" = "running";
  /** Unix seconds when the service was built. */
  readonly createTime = Math.floor(Date.now() / 1000);
  /** The last state changes, oldest first (gost keeps 20). */
  readonly events: ServiceEvent[] = [];

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
    // Names in an admission list are resolved first: a client must not get in meanwhile.
    await this.policy.admissions?.ready();
    if (this.policy.admissions) this.listener.gate?.((remote) => this.#admit(remote, ""));
    await this.listener.listen();
    this.#started = true;
    this.policy.limits?.start();
    this.log.log(announce, `listening on ${this.listener.addr}`);
    this.#event("ready", `service ${this.name} is listening on ${this.listener.addr}`);
    activeMetrics?.serviceUp(1);
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
      if (!this.#admit(conn.remote, conn.local)) {
        conn.close();
        continue;
      }
      const p = this.#serve(conn);
      this.#serving.add(p);
      p.finally(() => this.#serving.delete(p));
    }
  }

  /** Asks the service's admission about a client; a refusal is logged (one line per client). */
  #admit(remote: string, local: string): boolean {
    const admission = this.policy.admissions;
    if (!admission || admission.admit(remote)) return true;
    this.log.warn(`${remote}: refused by admission`, { remote, client: remote, ...(local ? { local } : {}) });
    return false;
  }

  async #serve(conn: Duplex): Promise<void> {
    // gost's per-connection fields: `sid` ties a connection's lines (errors, summary) together.
    const log = this.log.with({
      kind: "handler",
      sid: newXid(),
      remote: conn.remote,
      local: conn.local,
      client: conn.remote,
    });
    const admitted = this.#limit(conn, log);
    if (!admitted) return;
    conn = admitted.conn;
    this.#live.add(conn);
    const started = performance.now();
    const record: ConnRecord = {};
    this.stats.totalConns++;
    const metrics = activeMetrics;
    const series = metrics?.opened(this.name, clientIP(conn.remote));
    let failed = false;
    log.debug(`${conn.remote} <> ${conn.local}`);
    try {
      await this.handler.handle(conn, { log, record, signal: this.#abort.signal });
    } catch (err) {
      failed = true;
      if (!this.#closed) {
        // A target refused by the service's bypass is policy at work, not a failure.
        log.log(err instanceof BypassError ? "warn" : "error", errorMessage(err), target(conn, record));
      }
    } finally {
      conn.close();
      admitted.done?.();
      this.#live.delete(conn);
      this.#count(record, failed);
      if (series) {
        const secs = (performance.now() - started) / 1000;
        metrics!.closed(series, secs, record.inputBytes ?? 0, record.outputBytes ?? 0, failed);
      }
      log.info(`${conn.remote} >< ${conn.local}`, {
        ...target(conn, record),
        duration: new LogDuration(performance.now() - started),
        inputBytes: record.inputBytes ?? 0,
        outputBytes: record.outputBytes ?? 0,
      });
    }
  }

  #count(record: ConnRecord, failed: boolean): void {
    const st = this.stats;
    st.inputBytes += record.inputBytes ?? 0;
    st.outputBytes += record.outputBytes ?? 0;
    if (failed) st.totalErrs++;
  }

  #event(state: Service["state"], msg: string): void {
    if (this.state === state) return;
    this.state = state;
    if (this.events.length === 20) this.events.shift();
    this.events.push({ time: Math.floor(Date.now() / 1000), msg });
  }

  /** gost's "service X is closed" event, and the service no longer counted as up. */
  #ended(): void {
    if (this.state === "ready") activeMetrics?.serviceUp(-1);
    this.#event("closed", `service ${this.name} is closed`);
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
    this.#ended();
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
    this.#ended();
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

/** Where the connection went, as gost names it: `network`, `host` (and our `dst`, the same address). */
function target(conn: Duplex, r: ConnRecord) {
  return { network: r.network ?? (conn.datagram ? "udp" : "tcp"), host: r.dst ?? "", dst: r.dst ?? "" };
}
