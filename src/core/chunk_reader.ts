/**
 * Exact-size reads for framing layers (smux, snappy): returns views of the received bytes
 * without copying them, so a frame's payload can be handed on as it is.
 *
 * Unlike {@link BufferedReader} (which copies into one reused buffer, for handshakes),
 * bytes returned here are never overwritten and may be kept. Only a field that straddles
 * two reads is copied.
 * @module
 */
import type { DirectIO, Duplex } from "./duplex.ts";
import { UnexpectedEOF } from "./buffered_reader.ts";

const MIN_SLAB = 16 * 1024;
const MAX_SLAB = 128 * 1024;
/** A read into less free space than this starts a new slab instead. */
const MIN_SPACE = 2 * 1024;
const EMPTY = new Uint8Array(0);

/** Zero-copy exact reads over a duplex (its direct path when it has one, else its readable). */
export class ChunkReader {
  #direct?: DirectIO;
  #reader?: ReadableStreamDefaultReader<Uint8Array>;
  /** Received, unconsumed bytes are `#buf[#start..#end)`; nothing before `#end` is ever rewritten. */
  #buf: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  #slabSize = MIN_SLAB;
  /** Stream mode: the part of a received chunk not yet moved into `#buf`. */
  #pending: Uint8Array | null = null;
  #eof = false;

  constructor(src: Duplex) {
    this.#direct = src.direct;
    if (!this.#direct) this.#reader = src.readable.getReader();
  }

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.#end - this.#start + (this.#pending?.length ?? 0);
  }

  /** The next `n` bytes if they are already here (a view that may be kept), else null. */
  take(n: number): Uint8Array | null {
    if (this.#end - this.#start < n) {
      if (this.#end !== this.#start || !this.#pending || this.#pending.length < n) return null;
      this.#buf = this.#pending;
      this.#pending = null;
      this.#start = 0;
      this.#end = this.#buf.length;
    }
    const v = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    return v;
  }

  /**
   * The next `n` bytes (a view that may be kept). Resolves null when the stream ended
   * cleanly before the first of them; throws {@link UnexpectedEOF} when it ended midway.
   */
  async read(n: number, what = "frame"): Promise<Uint8Array | null> {
    while (this.#end - this.#start < n) {
      if (!(await this.#fill(n))) {
        if (this.#end === this.#start) return null;
        throw new UnexpectedEOF(what);
      }
    }
    return this.take(n)!;
  }

  /** Like {@link read} but end of stream before the first byte is an error too. */
  async readFull(n: number, what = "frame"): Promise<Uint8Array> {
    const v = await this.read(n, what);
    if (!v) throw new UnexpectedEOF(what);
    return v;
  }

  /** Stops reading from the source (a pending read ends). */
  cancel(reason?: unknown): void {
    this.#eof = true;
    this.#reader?.cancel(reason).catch(() => {});
  }

  /** Receives more bytes so that `want` may fit; false at end of stream. */
  async #fill(want: number): Promise<boolean> {
    if (this.#eof) return false;
    const live = this.#end - this.#start;
    if (this.#direct) {
      const space = this.#buf.length - this.#end;
      if (space < MIN_SPACE || this.#buf.length - this.#start < want) this.#newSlab(live, want);
      const target = this.#buf.subarray(this.#end);
      const n = await this.#direct.read(target);
      if (n === null) {
        this.#eof = true;
        return false;
      }
      this.#end += n;
      // Bulk transfers get big reads; a quiet spell lets the next buffer be small again.
      if (n === target.length && target.length >= this.#slabSize / 2) {
        this.#slabSize = Math.min(MAX_SLAB, this.#slabSize * 4);
      } else if (n < MIN_SPACE) this.#slabSize = Math.max(MIN_SLAB, this.#slabSize / 4);
      return true;
    }
    let chunk = this.#pending;
    this.#pending = null;
    if (!chunk) {
      const r = await this.#reader!.read();
      if (r.done) {
        this.#eof = true;
        return false;
      }
      chunk = r.value;
    }
    if (live === 0) {
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      return true;
    }
    // A field straddles chunks: copy just that field together, keep the rest as it is.
    const need = want - live;
    const used = chunk.length > need ? need : chunk.length;
    const joined = new Uint8Array(live + used);
    joined.set(this.#buf.subarray(this.#start, this.#end));
    joined.set(used === chunk.length ? chunk : chunk.subarray(0, used), live);
    if (used < chunk.length) this.#pending = chunk.subarray(used);
    this.#buf = joined;
    this.#start = 0;
    this.#end = joined.length;
    return true;
  }

  #newSlab(live: number, want: number) {
    const slab = new Uint8Array(Math.max(this.#slabSize, want + MIN_SPACE));
    slab.set(this.#buf.subarray(this.#start, this.#end));
    this.#buf = slab;
    this.#start = 0;
    this.#end = live;
  }
}
