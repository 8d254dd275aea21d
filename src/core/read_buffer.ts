/**
 * The one read-buffer policy of the data paths: start small (an idle connection holds a few
 * KiB), grow ×4 while reads fill the buffer (bulk transfers get large reads), and, where a
 * buffer is kept across reads, give the memory back after a run of small reads (a long-lived
 * connection after a burst holds the small size again).
 * @module
 */

/** Small reads in a row after which a kept buffer that grew is given back (see {@link ReadSizer}). */
export const QUIET_READS = 4;

/** Sizes a read buffer from the reads it sees. Allocation stays with the caller. */
export class ReadSizer {
  #size: number;
  #small = 0;

  /**
   * @param min the starting size, and the size given back to
   * @param max the largest size grown to
   * @param shrinkAfter reads in a row of at most `min` bytes after which a grown size
   *   returns to `min`; 0 never shrinks (for buffers that are handed out, not kept)
   */
  constructor(readonly min: number, readonly max: number, readonly shrinkAfter = 0) {
    this.#size = min;
  }

  /** The size to read into next. */
  get size(): number {
    return this.#size;
  }

  /**
   * Records a read of `n` bytes into a buffer of the current size; true when the size
   * changed (the caller then allocates a buffer of the new {@link size}).
   */
  update(n: number): boolean {
    const size = this.#size;
    if (n > this.min) this.#small = 0;
    if (n >= size && this.filled(size)) return true;
    if (this.shrinkAfter > 0 && n <= this.min && size > this.min && ++this.#small >= this.shrinkAfter) {
      this.#small = 0;
      this.#size = this.min;
      return true;
    }
    return false;
  }

  /**
   * Records that a read filled a buffer of `capacity` bytes (for a buffer whose capacity the
   * caller also sizes by need); true when the size grew, to four times that, at most `max`.
   */
  filled(capacity: number): boolean {
    if (capacity >= this.max) return false;
    this.#size = Math.min(capacity * 4, this.max);
    return true;
  }
}

/**
 * One buffer lent out for successive encodes whose output is written (and so done with)
 * before the next encode begins — a framing layer's write path — so that a bulk transfer
 * allocates nothing per write. It grows to the largest need, and after {@link QUIET_READS}
 * uses in a row of at most `keep` bytes a grown buffer is dropped, so a quiet connection
 * after a burst holds at most `keep` bytes. While lent out, {@link take} hands out a fresh
 * buffer instead (never two users of the same bytes).
 */
export class ScratchBuffer {
  #buf: Uint8Array = new Uint8Array(0);
  #lent = false;
  #small = 0;

  /**
   * @param keep the size a buffer shrinks back to (allocated only once needed)
   * @param freshBelow uses of fewer bytes get a fresh buffer of their own (so a connection that
   *   only ever writes small ones holds nothing) and count as small ones
   */
  constructor(readonly keep: number, readonly freshBelow = 0) {}

  /** A buffer of at least `n` bytes, to be handed back with {@link give} once written. */
  take(n: number): Uint8Array {
    if (this.#lent) return new Uint8Array(n);
    if (n < this.freshBelow) {
      if (this.#buf.length > this.keep && ++this.#small >= QUIET_READS) {
        this.#small = 0;
        this.#buf = new Uint8Array(this.keep);
      }
      return new Uint8Array(n);
    }
    if (n > this.keep) this.#small = 0;
    else if (this.#buf.length > this.keep && ++this.#small >= QUIET_READS) {
      this.#small = 0;
      this.#buf = new Uint8Array(this.keep);
    }
    if (this.#buf.length < n) this.#buf = new Uint8Array(Math.max(n, this.keep));
    this.#lent = true;
    return this.#buf;
  }

  /** Returns what {@link take} lent (a fresh buffer handed out while lent is simply dropped). */
  give(buf: Uint8Array): void {
    if (buf === this.#buf) this.#lent = false;
  }

  /** Bytes held between uses (for tests and memory accounting). */
  get held(): number {
    return this.#buf.length;
  }
}

/**
 * A free list of equal-sized buffers, for the first read buffer of each connection. In Deno 2.9
 * every `new Uint8Array` gets a backing store of its own (none live on V8's heap, not even 16
 * bytes): ~1 µs for a small one and ~4 µs for 4 KiB, counting the collection that frees it, against
 * ~0.1 µs for a view. A short connection through a proxy allocates two such buffers per process,
 * so they come from here and go back when the connection ends.
 *
 * A buffer given back holds the bytes of the connection that used it: a taker may only read
 * what its own reads wrote (the read loops do: `buf.subarray(0, n)`).
 */
export class BufferPool {
  readonly #free: Uint8Array[] = [];

  /**
   * @param size the length of every buffer
   * @param max buffers kept at most (what the pool can hold while idle: `size × max`)
   */
  constructor(readonly size: number, readonly max: number) {}

  /** A buffer of {@link size} bytes, from the free list when it has one. */
  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(this.size);
  }

  /**
   * Hands `buf` back once nothing will read into it or write from it any more (its last read
   * has resolved). Buffers of another size, views into a larger one, and buffers beyond
   * {@link max} are left to the collector.
   */
  give(buf: Uint8Array): void {
    if (
      buf.length === this.size && buf.byteOffset === 0 && buf.buffer.byteLength === this.size &&
      this.#free.length < this.max && !this.#free.includes(buf)
    ) this.#free.push(buf);
  }

  /** Buffers on the free list (for tests and memory accounting). */
  get free(): number {
    return this.#free.length;
  }
}
