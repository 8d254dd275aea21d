/**
 * gost's traffic limiter (`limiters:`): bytes per second a service receives from its clients
 * ("in") and sends to them ("out"), at three levels that all apply at once:
 *
 * - `$`: the service — one bucket per direction shared by every connection (and by every service
 *   that names the same limiter, as in gost, where the limiter object is shared by name);
 * - `$$`: each connection its own bucket;
 * - an IP or CIDR: each client IP its own bucket, shared by that IP's connections (a CIDR gives
 *   every IP inside it that rate; an IP's own line wins over a CIDR's).
 *
 * A changed limit (a file reload) applies to live connections at once: their buckets change
 * rate in place; a level that was not limited before applies from the next connection.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { splitHostPort } from "../core/addr.ts";
import { type Clock, realClock, Throttle, TokenBucket } from "./bucket.ts";
import { IpTable } from "./ip_table.ts";
import { limitDuplex } from "./limited.ts";
import type { TrafficLimit } from "./limits.ts";

/** `limiter.scope` (service metadata): which levels apply; "" all of them. */
export type TrafficScope = "" | "service" | "conn";

interface Rates {
  in: number;
  out: number;
}

interface HostEntry {
  in: TokenBucket | null;
  out: TokenBucket | null;
  refs: number;
}

/** Hosts checked for eviction at most this often. */
const SWEEP_MS = 10_000;

const bucket = (rate: number, clock: Clock) => rate > 0 ? new TokenBucket(rate, rate, clock) : null;

/** Changes a live bucket to `rate` (0: unlimited); creates one for new connections if there was none. */
function retune(b: TokenBucket | null, rate: number, clock: Clock): TokenBucket | null {
  if (b) {
    b.setRate(rate);
    return b;
  }
  return bucket(rate, clock);
}

/** The host part of `host:port` (or the whole string when it has no port). */
export function hostOf(addr: string): string {
  try {
    return splitHostPort(addr).host;
  } catch {
    return addr;
  }
}

/** One named traffic limiter. */
export class TrafficLimiter {
  #service: Rates = { in: 0, out: 0 };
  #conn: Rates = { in: 0, out: 0 };
  #ips = new IpTable<Rates>();
  #svcIn: TokenBucket | null = null;
  #svcOut: TokenBucket | null = null;
  readonly #live = new Set<{ in: TokenBucket | null; out: TokenBucket | null }>();
  readonly #hosts = new Map<string, HostEntry>();
  #lastSweep: number;

  constructor(limits: readonly TrafficLimit[], readonly clock: Clock = realClock) {
    this.#lastSweep = clock();
    this.update(limits);
  }

  /** Applies a new set of limits (later lines win over earlier ones with the same scope). */
  update(limits: readonly TrafficLimit[]): void {
    const service = { in: 0, out: 0 }, conn = { in: 0, out: 0 };
    const ips = new IpTable<Rates>();
    for (const l of limits) {
      const r = { in: l.in, out: l.out };
      if (l.scope === "$") Object.assign(service, r);
      else if (l.scope === "$$") Object.assign(conn, r);
      else ips.set(l.scope, r);
    }
    this.#service = service;
    this.#conn = conn;
    this.#ips = ips;
    this.#svcIn = retune(this.#svcIn, service.in, this.clock);
    this.#svcOut = retune(this.#svcOut, service.out, this.clock);
    for (const c of this.#live) {
      c.in?.setRate(conn.in);
      c.out?.setRate(conn.out);
    }
    for (const [host, e] of this.#hosts) {
      const r = ips.lookup(host)?.value ?? { in: 0, out: 0 };
      e.in = retune(e.in, r.in, this.clock);
      e.out = retune(e.out, r.out, this.clock);
    }
  }

  /** True when no line limits anything. */
  get unlimited(): boolean {
    const s = this.#service, c = this.#conn;
    return !s.in && !s.out && !c.in && !c.out && this.#ips.empty;
  }

  /** `conn` with this limiter's levels (those `scope` selects) on its input and output. */
  wrap(conn: Duplex, scope: TrafficScope = ""): Duplex {
    const ins: TokenBucket[] = [], outs: TokenBucket[] = [];
    if (scope !== "conn") {
      if (this.#svcIn) ins.push(this.#svcIn);
      if (this.#svcOut) outs.push(this.#svcOut);
    }
    let own: { in: TokenBucket | null; out: TokenBucket | null } | undefined;
    let host: HostEntry | undefined;
    if (scope !== "service") {
      own = { in: bucket(this.#conn.in, this.clock), out: bucket(this.#conn.out, this.clock) };
      if (own.in) ins.push(own.in);
      if (own.out) outs.push(own.out);
      this.#live.add(own);
      host = this.#host(hostOf(conn.remote));
      if (host) {
        host.refs++;
        if (host.in) ins.push(host.in);
        if (host.out) outs.push(host.out);
      }
    }
    const done = () => {
      if (own) this.#live.delete(own);
      if (host) host.refs--;
    };
    if (!ins.length && !outs.length) {
      done();
      return conn;
    }
    return limitDuplex(
      conn,
      ins.length ? new Throttle(ins) : null,
      outs.length ? new Throttle(outs) : null,
      done,
    );
  }

  /** The shared buckets of a client IP with its own or its CIDR's limits. */
  #host(host: string): HostEntry | undefined {
    this.#sweep();
    let e = this.#hosts.get(host);
    if (e) return e;
    const r = this.#ips.lookup(host)?.value;
    if (!r) return undefined;
    e = { in: bucket(r.in, this.clock), out: bucket(r.out, this.clock), refs: 0 };
    this.#hosts.set(host, e);
    return e;
  }

  /** Forgets hosts with no live connection whose buckets refilled (a new bucket would be the same). */
  #sweep(): void {
    const now = this.clock();
    if (now - this.#lastSweep < SWEEP_MS) return;
    this.#lastSweep = now;
    for (const [h, e] of this.#hosts) {
      if (e.refs === 0 && (e.in?.full ?? true) && (e.out?.full ?? true)) this.#hosts.delete(h);
    }
  }

  /** Client IPs with buckets held now (for tests and memory checks). */
  get hostCount(): number {
    return this.#hosts.size;
  }
}
