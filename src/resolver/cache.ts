/**
 * A resolver's answer cache, gost's rules: a nameserver's `ttl` > 0 keeps every answer that
 * long, 0 keeps it for the smallest TTL among its records (60 s when it has none), < 0 does
 * not cache. An expired entry is still returned (marked stale) so an `async` nameserver can
 * answer from it while it asks again. The clock is injectable for tests.
 * @module
 */

/** Used when an answer carries no TTL (gost's default). */
export const DEFAULT_TTL = 60_000;
/** Entries kept at most; the oldest go first (a hostile client cannot grow it without end). */
export const MAX_ENTRIES = 4096;

/** A cached answer. */
export interface CacheEntry {
  ips: string[];
  /** Milliseconds left; zero or less when stale. */
  remaining: number;
}

interface Item {
  ips: string[];
  expires: number;
}

/** The answer cache of one resolver. */
export class DnsCache {
  readonly #items = new Map<string, Item>();
  constructor(readonly now: () => number = Date.now, readonly maxEntries = MAX_ENTRIES) {}

  /** The entry for `key` (fresh or stale), or undefined. */
  get(key: string): CacheEntry | undefined {
    const it = this.#items.get(key);
    if (!it) return undefined;
    return { ips: it.ips, remaining: it.expires - this.now() };
  }

  /**
   * Stores an answer. `ttl` is the nameserver's setting in ms; `recordTtls` the TTLs (in
   * seconds) of the answer's records.
   */
  set(key: string, ips: string[], ttl: number, recordTtls: number[]): void {
    if (ttl < 0) return;
    let keep = ttl;
    if (keep === 0) {
      const positive = recordTtls.filter((t) => t > 0);
      keep = positive.length ? Math.min(...positive) * 1000 : DEFAULT_TTL;
    }
    this.#items.delete(key);
    if (this.#items.size >= this.maxEntries) {
      const oldest = this.#items.keys().next().value;
      if (oldest !== undefined) this.#items.delete(oldest);
    }
    this.#items.set(key, { ips, expires: this.now() + keep });
  }

  get size(): number {
    return this.#items.size;
  }
}
