/**
 * A service's limiters at accept: the climiter and the rlimiter decide whether a new connection
 * may be served (a refused one is closed before the handler reads anything, and logged), and the
 * traffic limiter wraps the ones that may.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import type { Logger } from "../core/log.ts";
import type { ConnLimiter, Slot } from "./conn.ts";
import type { RateLimiter } from "./rate.ts";
import { hostOf, type TrafficLimiter, type TrafficScope } from "./traffic.ts";

/** Refusal lines logged per second at most; the rest are counted and summed up in the next line. */
const LINES_PER_SECOND = 10;

/** Logs refusals, at most {@link LINES_PER_SECOND} lines a second, so a flood cannot flood the log. */
export class RefusalLog {
  #windowStart = -Infinity;
  #lines = 0;
  #dropped = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #log?: Logger;

  constructor(readonly clock: () => number = () => performance.now()) {}

  /** Logs `why` for a refused connection on `log` (which carries its addresses). */
  refused(log: Logger, why: string): void {
    const now = this.clock();
    if (now - this.#windowStart >= 1000) {
      this.flush();
      this.#windowStart = now;
      this.#lines = 0;
    }
    if (this.#lines++ < LINES_PER_SECOND) return log.warn(`refused: ${why}`);
    if (this.#dropped++ === 0) {
      // Say how many were left out when the second is over, even if the flood stopped.
      this.#log = log;
      const timer = setTimeout(() => this.flush(), Math.max(0, this.#windowStart + 1000 - now));
      Deno.unrefTimer(timer as unknown as number);
      this.#timer = timer;
    }
  }

  /** Logs the count of refusals left out, if any. */
  flush(): void {
    clearTimeout(this.#timer);
    if (this.#dropped && this.#log) {
      this.#log.warn(`${this.#dropped} more refused connection(s) not logged in the last second`, {
        refused: this.#dropped,
      });
    }
    this.#dropped = 0;
  }
}

/** A connection that may be served, and what to call when it ends. */
export interface Admitted {
  conn: Duplex;
  done(): void;
}

/** Something a limiter watches while a service uses it (a limits file with `reload`). */
export interface Watched {
  retain(): void;
  release(): void;
}

/** The limiters one service uses. */
export class LimitPolicy {
  readonly refusals = new RefusalLog();

  constructor(
    readonly traffic: TrafficLimiter | undefined,
    readonly scope: TrafficScope,
    readonly climiter: ConnLimiter | undefined,
    readonly rlimiter: RateLimiter | undefined,
    /** File reloaders of these limiters. */
    readonly watched: readonly Watched[] = [],
  ) {}

  /** The service started: watch the limiters' files. */
  start(): void {
    for (const w of this.watched) w.retain();
  }

  /** The service closed. */
  stop(): void {
    this.refusals.flush();
    for (const w of this.watched) w.release();
  }

  /** `conn` under the traffic limits, or null when a limiter refuses it (logged on `log`). */
  admit(conn: Duplex, log: Logger): Admitted | null {
    const host = hostOf(conn.remote);
    let slot: Slot | undefined;
    if (this.climiter) {
      const r = this.climiter.acquire(host);
      if ("refused" in r) return this.#refuse(log, r.refused);
      slot = r;
    }
    const why = this.rlimiter?.check(host);
    if (why) {
      slot?.release();
      return this.#refuse(log, why);
    }
    const limited = this.traffic ? this.traffic.wrap(conn, this.scope) : conn;
    return { conn: limited, done: () => slot?.release() };
  }

  #refuse(log: Logger, why: string): null {
    this.refusals.refused(log, why);
    return null;
  }
}
