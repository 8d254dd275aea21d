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
