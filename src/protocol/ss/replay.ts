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

/** Packet ids a {@link PacketWindow} remembers below the highest one seen (SIP022 UDP). */
export const PACKET_WINDOW = 2048;

/** Ids from 2^53 up are refused: numbers stay exact, and no sender counts that far. */
const MAX_PACKET_ID = 2 ** 53;

/**
 * The sliding-window packet-id filter of one SIP022 UDP session (as WireGuard's): ids more
 * than {@link PACKET_WINDOW} below the highest seen are too old, ids inside the window are
 * accepted once. A fixed 256-byte bitmap, so memory per session is bounded.
 *
 * {@link fresh} only asks; {@link accept} records, and is called once the packet has
 * authenticated and its header is valid, so forged packets cannot move the window.
 */
export class PacketWindow {
  /** One bit per id, ring-indexed by `id % PACKET_WINDOW`. */
  readonly #bits = new Uint32Array(PACKET_WINDOW / 32);
  #top = -1;

  /** The highest id accepted so far (-1 before the first). */
  get top(): number {
    return this.#top;
  }

  /** True if `id` is neither too old nor already accepted. */
  fresh(id: number): boolean {
    if (id > this.#top) return id < MAX_PACKET_ID;
    if (this.#top - id >= PACKET_WINDOW) return false;
    return !this.#has(id);
  }

  /** Checks `id` and records it; false (nothing recorded) if it is a replay or too old. */
  accept(id: number): boolean {
    if (!this.fresh(id)) return false;
    if (id > this.#top) {
      if (id - this.#top >= PACKET_WINDOW) this.#bits.fill(0);
      else for (let i = this.#top + 1; i < id; i++) this.#clear(i);
      this.#top = id;
    }
    const bit = id % PACKET_WINDOW;
    this.#bits[bit >>> 5] |= 1 << (bit & 31);
    return true;
  }

  #has(id: number): boolean {
    const bit = id % PACKET_WINDOW;
    return (this.#bits[bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  #clear(id: number): void {
    const bit = id % PACKET_WINDOW;
    this.#bits[bit >>> 5] &= ~(1 << (bit & 31));
  }
}
