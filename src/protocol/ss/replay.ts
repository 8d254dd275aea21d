/**
 * Salts already seen, for replay protection with bounded memory.
 *
 * Two generations of exact salts: when the current one is full (or older than `maxAgeMs`) it
 * becomes the previous one and the oldest is dropped. So a salt is remembered for at least
 * one generation's worth of traffic, memory never exceeds two generations, and — unlike a
 * Bloom filter — a fresh salt is never rejected by mistake.
 * @module
 */

/** Remembers salts; {@link check} answers whether one was seen and records it. */
export class SaltFilter {
  #current = new Set<string>();
  #previous = new Set<string>();
  #since: number;

  /**
   * @param capacity salts per generation (memory bound: 2 × capacity salts)
   * @param maxAgeMs a generation rotates after this long even when not full (0: only when full)
   * @param now clock, replaceable in tests
   */
  constructor(
    readonly capacity = 1 << 16,
    readonly maxAgeMs = 0,
    readonly now: () => number = Date.now,
  ) {
    this.#since = now();
  }

  /** True if `salt` was seen before (a replay); otherwise records it and returns false. */
  check(salt: Uint8Array): boolean {
    const key = keyOf(salt);
    if (this.#current.has(key) || this.#previous.has(key)) return true;
    this.add(key);
    return false;
  }

  /** Records a salt without asking (our own salts, so that reflected ones are refused). */
  add(salt: Uint8Array | string): void {
    const key = typeof salt === "string" ? salt : keyOf(salt);
    if (
      this.#current.size >= this.capacity ||
      (this.maxAgeMs > 0 && this.now() - this.#since >= this.maxAgeMs)
    ) {
      this.#previous = this.#current;
      this.#current = new Set();
      this.#since = this.now();
    }
    this.#current.add(key);
  }

  /** Salts remembered now. */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }
}

function keyOf(salt: Uint8Array): string {
  return String.fromCharCode.apply(null, salt as unknown as number[]);
}
