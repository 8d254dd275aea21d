/**
 * What a fuzz target is, and in-memory byte sources for parsers that read from a duplex.
 * @module
 */
import { type DirectIO, IODuplex } from "../../src/core/duplex.ts";
import { TooLong, UnexpectedEOF } from "../../src/core/buffered_reader.ts";

/** One parser under fuzz. */
export interface Target {
  /** Printed in reports and failures, e.g. `socks5.server`. */
  name: string;
  /** The golden inputs mutations start from (captured bytes, encoder output). */
  seeds(): Uint8Array[] | Promise<Uint8Array[]>;
  /** Feeds one input to the parser; throws what the parser throws. */
  run(input: Uint8Array): void | Promise<void>;
  /**
   * True when `err` is how this parser rejects input (its own typed errors). Anything else
   * thrown is a crash.
   */
  rejects(err: unknown): boolean;
  /** Called once after the last input (closes sessions kept across inputs). */
  done?(): void | Promise<void>;
}

/** Rejections of everything that reads through a BufferedReader: the stream ended early, a field was too long. */
export const readerErrors = [UnexpectedEOF, TooLong];

/** `rejects` for a parser whose typed errors are `classes`. */
export function typed(...classes: (abstract new (...a: any[]) => Error)[]): (err: unknown) => boolean {
  return (err) => classes.some((c) => err instanceof c);
}

/** For parsers that never throw (they return null or a reason): every exception is a crash. */
export const never = (_err: unknown): boolean => false;

let inputs = 0;
const CHUNKS = [Infinity, 1, 2, 3, 7, 64, 1000];

/**
 * Direct I/O that yields `bytes` then end of stream, in reads of a size that changes from
 * one input to the next (whole, byte by byte, odd sizes): a parser must not depend on how
 * TCP splits its input. Writes are swallowed.
 */
export function memoryIO(bytes: Uint8Array): DirectIO {
  // Byte-by-byte reads of a large input would measure the loop, not the parser.
  const chunk = Math.max(CHUNKS[inputs++ % CHUNKS.length], bytes.length >> 8);
  let off = 0;
  return {
    read(buf: Uint8Array): Promise<number | null> {
      if (off >= bytes.length) return Promise.resolve(null);
      const n = Math.min(buf.length, chunk, bytes.length - off);
      buf.set(bytes.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
    write: () => Promise.resolve(),
    closeWrite: () => Promise.resolve(),
  };
}

/** A duplex over {@link memoryIO}. */
export function memoryDuplex(bytes: Uint8Array): IODuplex {
  return new IODuplex(memoryIO(bytes), () => {}, "127.0.0.1:1", "127.0.0.1:2");
}

/** Reads `io` to its end, throwing away the bytes. */
export async function drain(io: { read(b: Uint8Array): Promise<number | null> }): Promise<void> {
  const buf = new Uint8Array(16 * 1024);
  while ((await io.read(buf)) !== null) { /* discard */ }
}

const enc = new TextEncoder();
/** UTF-8 bytes of `s`. */
export const utf8 = (s: string): Uint8Array => enc.encode(s);
