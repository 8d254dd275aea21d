/**
 * Snappy framing format over a duplex (what KCP runs below smux unless `nocomp`).
 *
 * The stream starts with a stream identifier chunk (`ff 06 00 00 "sNaPpY"`); each chunk
 * is `type(1) length(3, LE)` then, for data, a masked CRC-32C of the uncompressed bytes
 * and the (compressed or uncompressed) data. Writing follows gost: every write becomes
 * one chunk (split at 64 KiB), compressed only when that saves at least an eighth, and
 * the identifier goes out with the first write.
 * @module
 */
import { type DirectIO, type Duplex, IODuplex } from "../../core/duplex.ts";
import { ScratchBuffer } from "../../core/read_buffer.ts";
import { ChunkReader } from "../../core/chunk_reader.ts";
import { UnexpectedEOF } from "../../core/buffered_reader.ts";
import { crc32c } from "../../core/crc32.ts";
import { compress, decompress, maxCompressedLength } from "./block.ts";

/** Chunk types. */
export const ChunkType = {
  COMPRESSED: 0x00,
  UNCOMPRESSED: 0x01,
  PADDING: 0xfe,
  STREAM_IDENTIFIER: 0xff,
} as const;

/** The stream identifier chunk that opens every framed stream. */
export const STREAM_IDENTIFIER = new Uint8Array([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);
/** Uncompressed bytes in one chunk, at most. */
export const MAX_BLOCK = 65536;
/** A chunk body larger than this is refused (the largest compressed 64 KiB block + CRC). */
export const MAX_CHUNK_BODY = maxCompressedLength(MAX_BLOCK) + 4;

/** The framed stream is malformed; the message names the chunk. */
export class SnappyFrameError extends Error {
  constructor(message: string) {
    super(`snappy: ${message}`);
    this.name = "SnappyFrameError";
  }
}

/** The snappy framing checksum: CRC-32C, rotated right by 15 bits, plus a constant. */
export function maskedCrc(data: Uint8Array): number {
  const c = crc32c(data);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

function putHeader(out: Uint8Array, at: number, type: number, bodyLen: number, crc: number) {
  out[at] = type;
  out[at + 1] = bodyLen & 0xff;
  out[at + 2] = (bodyLen >>> 8) & 0xff;
  out[at + 3] = bodyLen >>> 16;
  out[at + 4] = crc & 0xff;
  out[at + 5] = (crc >>> 8) & 0xff;
  out[at + 6] = (crc >>> 16) & 0xff;
  out[at + 7] = crc >>> 24;
}

/** The most bytes {@link encodeChunks} can make of `n` bytes. */
export function framedLength(n: number, withIdentifier: boolean): number {
  const blocks = Math.max(1, Math.ceil(n / MAX_BLOCK));
  return (withIdentifier ? STREAM_IDENTIFIER.length : 0) + blocks * 8 + maxCompressedLength(n) + blocks * 32;
}

/**
 * The framed bytes for one write: the stream identifier first when `withIdentifier`, then
 * one data chunk per 64 KiB of `data`, each compressed only when that saves an eighth.
 * All of it in one buffer (one write to the transport): a view of `out` when given (at least
 * {@link framedLength} bytes), else of a fresh buffer.
 */
export function encodeChunks(data: Uint8Array, withIdentifier: boolean, out?: Uint8Array): Uint8Array {
  out ??= new Uint8Array(framedLength(data.length, withIdentifier));
  let o = 0;
  if (withIdentifier) {
    out.set(STREAM_IDENTIFIER);
    o = STREAM_IDENTIFIER.length;
  }
  for (let p = 0; p < data.length; p += MAX_BLOCK) {
    const block = data.subarray(p, Math.min(data.length, p + MAX_BLOCK));
    const crc = maskedCrc(block);
    const compressed = compress(block, out.subarray(o + 8));
    if (compressed.length < block.length - (block.length >>> 3)) {
      putHeader(out, o, ChunkType.COMPRESSED, compressed.length + 4, crc);
      o += 8 + compressed.length;
    } else {
      putHeader(out, o, ChunkType.UNCOMPRESSED, block.length + 4, crc);
      out.set(block, o + 8);
      o += 8 + block.length;
    }
  }
  return out.subarray(0, o);
}

/**
 * Reads the next data chunk's uncompressed bytes (skipping identifier, padding and
 * skippable chunks), or null at a clean end of stream. `state.seenIdentifier` tracks the
 * rule that a stream starts with the identifier. A compressed chunk is decompressed into the
 * buffer `into(length)` returns, when given (see {@link decompress}); an uncompressed one is a
 * view of the received bytes.
 */
export async function readChunk(
  r: ChunkReader,
  state: { seenIdentifier: boolean },
  into?: (length: number) => Uint8Array,
): Promise<Uint8Array | null> {
  for (;;) {
    const h = r.take(4) ?? await r.read(4, "snappy chunk header");
    if (!h) return null;
    const type = h[0];
    const len = h[1] | (h[2] << 8) | (h[3] << 16);
    if (!state.seenIdentifier && type !== ChunkType.STREAM_IDENTIFIER) {
      throw new SnappyFrameError(
        `stream does not start with the stream identifier (first chunk type 0x${hex(type)})`,
      );
    }
    if (len > MAX_CHUNK_BODY) {
      throw new SnappyFrameError(`chunk type 0x${hex(type)} of ${len} bytes exceeds ${MAX_CHUNK_BODY}`);
    }
    const body = r.take(len) ?? await r.readFull(len, "snappy chunk");
    switch (type) {
      case ChunkType.STREAM_IDENTIFIER:
        if (len !== 6 || !sameBytes(body, STREAM_IDENTIFIER.subarray(4))) {
          throw new SnappyFrameError("bad stream identifier chunk");
        }
        state.seenIdentifier = true;
        continue;
      case ChunkType.COMPRESSED:
      case ChunkType.UNCOMPRESSED: {
        if (len < 4) throw new SnappyFrameError(`data chunk of ${len} bytes has no checksum`);
        const want = (body[0] | (body[1] << 8) | (body[2] << 16) | (body[3] << 24)) >>> 0;
        let data = body.subarray(4);
        if (type === ChunkType.COMPRESSED) {
          try {
            data = decompress(data, MAX_BLOCK, into);
          } catch (err) {
            throw new SnappyFrameError(`compressed chunk: ${(err as Error).message}`);
          }
        } else if (data.length > MAX_BLOCK) {
          throw new SnappyFrameError(`uncompressed chunk of ${data.length} bytes exceeds ${MAX_BLOCK}`);
        }
        if (maskedCrc(data) !== want) {
          throw new SnappyFrameError(`checksum mismatch in a ${data.length}-byte chunk`);
        }
        if (data.length === 0) continue;
        return data;
      }
      default:
        if (type <= 0x7f) throw new SnappyFrameError(`reserved unskippable chunk type 0x${hex(type)}`);
        continue; // padding and reserved skippable chunks
    }
  }
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Wraps `conn` in snappy framing: bytes written are framed (one chunk per write), bytes
 * read are the decoded stream. A malformed stream fails reads with a
 * {@link SnappyFrameError} naming the problem (and closes `conn`). `closeWrite()` half-closes
 * `conn`; `close()` closes it.
 *
 * Its direct path allocates nothing per chunk: each write is framed into one reused buffer
 * (written before the next write is framed), and each compressed chunk is decompressed
 * straight into the reader's buffer when it fits there, else into a kept 64 KiB one.
 */
export function snappyFramed(conn: Duplex): Duplex {
  return new IODuplex(new SnappyIO(conn), () => conn.close(), conn.local, conn.remote);
}

class SnappyIO implements DirectIO {
  readonly #conn: Duplex;
  readonly #reader: ChunkReader;
  readonly #direct?: DirectIO;
  readonly #writer?: WritableStreamDefaultWriter<Uint8Array>;
  readonly #state = { seenIdentifier: false };
  readonly #out = new ScratchBuffer(4096);
  #wroteIdentifier = false;
  /** Decoded bytes not yet read. */
  #rest: Uint8Array = new Uint8Array(0);
  #decoded?: Uint8Array;

  constructor(conn: Duplex) {
    this.#conn = conn;
    this.#reader = new ChunkReader(conn);
    this.#direct = conn.direct;
    if (!this.#direct) this.#writer = conn.writable.getWriter();
  }

  async read(buf: Uint8Array): Promise<number | null> {
    if (this.#rest.length === 0) {
      // Straight into `buf` when the whole block fits; otherwise through the kept buffer.
      let inPlace = false;
      const into = (length: number) =>
        length <= buf.length ? (inPlace = true, buf) : (this.#decoded ??= new Uint8Array(MAX_BLOCK));
      let data: Uint8Array | null;
      try {
        data = await readChunk(this.#reader, this.#state, into);
      } catch (err) {
        this.#conn.close();
        throw err instanceof UnexpectedEOF ? new SnappyFrameError("stream ended inside a chunk") : err;
      }
      if (!data) return null;
      if (inPlace) return data.length;
      this.#rest = data;
    }
    const n = Math.min(buf.length, this.#rest.length);
    buf.set(this.#rest.subarray(0, n));
    this.#rest = this.#rest.subarray(n);
    return n;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    const withIdentifier = !this.#wroteIdentifier;
    this.#wroteIdentifier = true;
    // A stream may keep its chunk: it gets a fresh one; the direct path reuses one buffer.
    if (!this.#direct) return this.#writer!.write(encodeChunks(chunk, withIdentifier));
    const out = this.#out.take(framedLength(chunk.length, withIdentifier));
    try {
      await this.#direct.write(encodeChunks(chunk, withIdentifier, out));
    } finally {
      this.#out.give(out);
    }
  }

  closeWrite(): Promise<void> {
    return this.#direct ? this.#direct.closeWrite() : this.#writer!.close();
  }
}
