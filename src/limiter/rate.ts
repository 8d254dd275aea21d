/**
 * gost's request rate limiter (`rlimiters:`, `?rlimiter=R`): `$` caps the connections (gost's
 * "requests": each one a handler serves) a service takes per second, `$$` each client IP's, and
 * an IP or CIDR line sets that IP's rate (for a CIDR, each IP's) instead of `$$`. Each level is a
 * token bucket of R per second holding R+1 (gost's burst); a connection over the rate is closed
 * before the handler reads anything, as gost's handlers do.
 * @module
 */
import { type Clock, realClock, TokenBucket } from "./bucket.ts";
import { IpTable } from "./ip_table.ts";
import type { CountLimit } from "./limits.ts";

const burstOf = (r: number) => Math.floor(r) + 1;
/** Hosts checked for eviction at most this often. */
const SWEEP_MS = 10_000;

/** One named rlimiter. */
export class RateLimiter {
  #global: TokenBucket | null = null;
  #perIp = 0;
  #ips = new IpTable<number>();
  readonly #hosts = new Map<string, TokenBucket>();
  #lastSweep: number;

  constructor(limits: readonly CountLimit[], readonly clock: Clock = realClock) {
    this.#lastSweep = clock();
    this.update(limits);
  }

  /** Applies new rates; buckets keep what they hold. */
  update(limits: readonly CountLimit[]): void {
    let global = 0;
    this.#perIp = 0;
    this.#ips = new IpTable<number>();
    for (const l of limits) {
      if (l.scope === "$") global = l.limit;
      else if (l.scope === "$$") this.#perIp = l.limit;
      else this.#ips.set(l.scope, l.limit);
    }
    if (this.#global) this.#global.setRate(global, burstOf(global));
    else if (global > 0) this.#global = new TokenBucket(global, burstOf(global), this.clock);
    for (const [host, b] of this.#hosts) {
      const r = this.#rateOf(host);
      b.setRate(r, burstOf(r));
    }
  }

  #rateOf(host: string): number {
    return this.#ips.lookup(host)?.value ?? this.#perIp;
  }

  /** Counts one request from `host`; null when it may go on, else why not. */
  check(host: string): string | null {
    this.#sweep();
    let h = this.#hosts.get(host);
    if (!h) {
      const r = this.#rateOf(host);
      if (r > 0) this.#hosts.set(host, h = new TokenBucket(r, burstOf(r), this.clock));
    }
    // Every level counts the request, as gost's group does, even when another refuses it.
    const okGlobal = this.#global?.allow() ?? true;
    const okHost = h?.allow() ?? true;
    if (!okGlobal) return `rlimiter: the service is over ${this.#global!.rate} requests per second`;
    if (!okHost) return `rlimiter: ${host} is over ${h!.rate} requests per second`;
    return null;
  }

  #sweep(): void {
    const now = this.clock();
    if (now - this.#lastSweep < SWEEP_MS) return;
    this.#lastSweep = now;
    for (const [h, b] of this.#hosts) if (b.full) this.#hosts.delete(h);
  }

  /** Client IPs with a bucket held now. */
  get hostCount(): number {
    return this.#hosts.size;
  }
}
