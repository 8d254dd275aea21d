/**
 * Our {@link Duplex} as a Node duplex stream, for npm and `node:` libraries that speak a
 * protocol over a Node stream (`ssh2`, `node:tls`): they then run over any duplex, a socket
 * or a tunnel through earlier hops alike.
 * @module
 */
import { Buffer } from "node:buffer";
import { Duplex as NodeDuplex } from "node:stream";
import { concat } from "./bytes.ts";
import { directIO } from "./direct_io.ts";
import type { Duplex } from "./duplex.ts";
import { ReadSizer } from "./read_buffer.ts";

/** Emitted by {@link toNodeStream}'s stream when its source reached end of stream. */
export const SOURCE_END = "gost:sourceend";

const MIN_READ = 16 * 1024;
const MAX_READ = 256 * 1024;

/** Options for {@link toNodeStream}. */
export interface NodeStreamOptions {
  /** Keep the writable side open after the source ends (TLS half-close); default false. */
  allowHalfOpen?: boolean;
  /** Sees the first non-empty chunk read from the source (e.g. to log what a client sent). */
  onFirstChunk?: (chunk: Uint8Array) => void;
  /** Waited on before each read: lets the consumer on top stop the source (TLS's bounded queue). */
  beforeRead?: () => Promise<void>;
  /** Called once the stream is destroyed (to release whatever `beforeRead` waits on). */
  onDestroy?: () => void;
  /** A failed half-close errors the stream (default false: it only ends the writable side). */
  closeWriteErrors?: boolean;
}

/**
 * A Node duplex stream reading from and writing to `d` (which it then owns). Reads are
 * pulled only while Node wants more (backpressure), into buffers that grow while the source
 * fills them; a write calls back once the bytes are written, so the caller's buffer is
 * never retained. Writes that pile up while one is under way (TLS emits a record at a time)
 * go out as one.
 */
export function toNodeStream(d: Duplex, opts: NodeStreamOptions = {}): NodeDuplex {
  const io = directIO(d);
  let onFirstChunk = opts.onFirstChunk;
  let reading = false;
  // Pushed chunks are kept by the stream, so nothing is kept here to give back.
  const sizer = new ReadSizer(MIN_READ, MAX_READ);
  const stream: NodeDuplex = new NodeDuplex({
    allowHalfOpen: opts.allowHalfOpen ?? false,
    read() {
      if (reading) return;
      reading = true;
      (async () => {
        try {
          for (;;) {
            if (opts.beforeRead) await opts.beforeRead();
            // Pushed chunks are kept by the stream: each read needs its own buffer.
            const buf = new Uint8Array(sizer.size);
            const n = await io.read(buf);
            if (n === null) {
              stream.emit(SOURCE_END);
              stream.push(null);
              return;
            }
            if (n === 0) continue;
            sizer.update(n);
            const chunk = buf.subarray(0, n);
            if (onFirstChunk) {
              onFirstChunk(chunk);
              onFirstChunk = undefined;
            }
            if (!stream.push(Buffer.from(buf.buffer, 0, n))) return;
          }
        } catch (err) {
          stream.destroy(err as Error);
        } finally {
          reading = false;
        }
      })();
    },
    write(chunk: Uint8Array, _enc, cb) {
      io.write(chunk).then(() => cb(), (err) => cb(err));
    },
    writev(chunks, cb) {
      io.write(concat(chunks.map((c) => c.chunk as Uint8Array))).then(() => cb(), (err) => cb(err));
    },
    final(cb) {
      io.closeWrite().then(() => cb(), (err) => cb(opts.closeWriteErrors ? err : undefined));
    },
    destroy(err, cb) {
      d.close();
      opts.onDestroy?.();
      cb(err);
    },
  });
  // A read failing because the duplex was closed under it is an ordinary end; the library on
  // top hears about real failures through 'close'. An 'error' nobody listens to would crash.
  stream.on("error", () => {});
  return stream;
}
