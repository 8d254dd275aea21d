/**
 * gost's concurrent-connection limiter (`climiters:`, `?climiter=N`): `$` caps the service's
 * live connections, `$$` each client IP's, and an IP or CIDR line sets the cap for that IP (for
 * a CIDR, for each IP inside it) instead of `$$`. A connection over a cap is closed as soon as
 * it is accepted, as gost does.
 *
 * Unlike gost, a reload keeps counting the live connections (gost starts its counts from zero).
 * @module
 */
import { IpTable } from "./ip_table.ts";
import type { CountLimit } from "./limits.ts";

interface Counter {
  limit: number;
  live: number;
}

/** A granted connection slot; `release` (idempotent) gives it back. */
export interface Slot {
  release(): void;
}

/** One named climiter. */
export class ConnLimiter {
  #global: Counter | null = null;
  #perIp = 0;
  #ips = new IpTable<number>();
  readonly #hosts = new Map<string, Counter>();

  constructor(limits: readonly CountLimit[]) {
    this.update(limits);
  }

  /** Applies new limits; live connections stay counted. */
  update(limits: readonly CountLimit[]): void {
    let global = 0;
    this.#perIp = 0;
    this.#ips = new IpTable<number>();
    for (const l of limits) {
      if (l.scope === "$") global = l.limit;
      else if (l.scope === "$$") this.#perIp = l.limit;
      else this.#ips.set(l.scope, l.limit);
    }
    if (global > 0) (this.#global ??= { limit: global, live: 0 }).limit = global;
    else if (this.#global) this.#global.limit = Infinity;
    for (const [host, c] of this.#hosts) c.limit = this.#limitOf(host) || Infinity;
  }

  #limitOf(host: string): number {
    return this.#ips.lookup(host)?.value ?? this.#perIp;
  }

  /** A slot for one more connection from `host`, or why there is none. */
  acquire(host: string): Slot | { refused: string } {
    const g = this.#global;
    if (g && g.live >= g.limit) {
      return { refused: `climiter: the service has ${g.live} connections (limit ${g.limit})` };
    }
    let h = this.#hosts.get(host);
    if (!h) {
      const limit = this.#limitOf(host);
      if (limit > 0) this.#hosts.set(host, h = { limit, live: 0 });
    }
    if (h && h.live >= h.limit) {
      return { refused: `climiter: ${host} has ${h.live} connections (limit ${h.limit})` };
    }
    if (g) g.live++;
    if (h) h.live++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (g) g.live--;
        if (h && --h.live === 0 && this.#hosts.get(host) === h) this.#hosts.delete(host);
      },
    };
  }

  /** Live connections counted for the whole service. */
  get live(): number {
    return this.#global?.live ?? 0;
  }
}
