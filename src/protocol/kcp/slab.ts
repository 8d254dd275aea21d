/**
 * Datagram-sized buffers carved out of shared blocks.
 *
 * A KCP endpoint needs ~1.4 KB buffers for the segments it queues (and, where datagrams cannot
 * be sent synchronously, copies of outgoing ones; see udp_send.ts). Allocating each as its own
 * ArrayBuffer costs about 1.5 µs in V8 (allocation, external-memory accounting, GC); a view of a shared block costs a
 * tenth of that. Views are never handed out twice and a block is never rewritten, so a view
 * belongs to whoever took it, like a fresh array; a block is freed once no view of it is left.
 * Blocks are small (16 KiB) so that a few long-held views (a segment waiting for a hole to be
 * filled) cannot pin much memory.
 * @module
 */

/**
 * Room reserved for each received datagram: kcp-go never sends more than 1500 bytes (a longer
 * one is cut short here and then fails its CRC).
 */
export const RECEIVE_ROOM = 1536;

/** Bytes per block. */
export const SLAB_BLOCK = 16 * 1024;

/** A bump allocator of byte views over 16 KiB blocks. */
export class Slab {
  #block = new Uint8Array(0);
  #pos = 0;

  /** A view of `n` fresh bytes (zero unless a reservation wrote past what it kept), 8-byte aligned. */
  take(n: number): Uint8Array {
    if (n > SLAB_BLOCK) return new Uint8Array(n);
    const v = this.reserve(n);
    this.commit(n);
    return v;
  }

  /** A copy of `src` in fresh space. */
  copy(src: Uint8Array): Uint8Array {
    const v = this.take(src.length);
    v.set(src);
    return v;
  }

  /**
   * A view of room for up to `n` bytes; `commit(used)` must follow before the next call, and
   * keeps only the first `used` bytes (the rest is handed out again).
   */
  reserve(n: number): Uint8Array {
    if (n > SLAB_BLOCK) throw new RangeError(`cannot reserve ${n} bytes of a ${SLAB_BLOCK}-byte block`);
    if (this.#pos + n > this.#block.length) {
      this.#block = new Uint8Array(SLAB_BLOCK);
      this.#pos = 0;
    }
    return this.#block.subarray(this.#pos, this.#pos + n);
  }

  /** Keeps the first `used` bytes of the last reservation. */
  commit(used: number): void {
    this.#pos = Math.min(this.#block.length, (this.#pos + used + 7) & ~7);
  }
}
