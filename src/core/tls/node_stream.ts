/**
 * Bridges between our duplexes and Node streams, so that `node:tls` can run TLS over any
 * stream (a tunnel through earlier hops, not only a socket) and its TLS socket can be used
 * as a duplex again.
 * @module
 */
import { Buffer } from "node:buffer";
import { Duplex as NodeDuplex } from "node:stream";
import { directIO } from "../direct_io.ts";
import type { DirectIO, Duplex } from "../duplex.ts";

const MIN_READ = 16 * 1024;

/** Emitted by {@link toNodeStream}'s stream when its source reached end of stream. */
export const SOURCE_END = "gost:sourceend";
const MAX_READ = 256 * 1024;

/** A Node duplex stream reading from and writing to `d` (which it then owns). */
export function toNodeStream(d: Duplex): NodeDuplex {
  const io = directIO(d);
  let reading = false;
  let size = MIN_READ;
  const stream: NodeDuplex = new NodeDuplex({
    allowHalfOpen: true,
    read() {
      if (reading) return;
      reading = true;
      (async () => {
        try {
          for (;;) {
            // Pushed chunks are kept by the stream: each read needs its own buffer.
            const buf = new Uint8Array(size);
            const n = await io.read(buf);
            if (n === null) {
              stream.emit(SOURCE_END);
              stream.push(null);
              return;
            }
            if (n === size && size < MAX_READ) size *= 4;
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
    final(cb) {
      io.closeWrite().then(() => cb(), (err) => cb(err));
    },
    destroy(err, cb) {
      d.close();
      cb(err);
    },
  });
  return stream;
}

/**
 * Direct I/O over a Node duplex (a `tls.TLSSocket`). Reads take what the stream has
 * buffered; writes resolve once the stream has taken the bytes (so the caller may reuse them).
 *
 * `transport` is the stream the TLS socket runs over. Deno's `node:tls` does not always end
 * its readable side when the peer's close_notify and FIN arrive after this side half-closed
 * (seen with transfers over ~64 KiB), so the end of the transport also ends reading once
 * everything decrypted has been taken.
 */
export function nodeStreamIO(s: NodeDuplex, transport?: NodeDuplex): DirectIO {
  let pending: Uint8Array | null = null;
  let ended = false;
  let transportEnded = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  s.on("readable", notify);
  s.on("end", () => {
    ended = true;
    notify();
  });
  s.on("close", () => {
    ended = true;
    notify();
  });
  s.on("error", (err: Error) => {
    failure ??= err;
    notify();
  });
  transport?.once(SOURCE_END, () => {
    transportEnded = true;
    notify();
  });
  return {
    async read(buf) {
      for (;;) {
        if (!pending) pending = s.read() as Uint8Array | null;
        if (pending) {
          const n = Math.min(buf.length, pending.length);
          buf.set(n === pending.length ? pending : pending.subarray(0, n));
          pending = n < pending.length ? pending.subarray(n) : null;
          return n;
        }
        if (failure) throw failure;
        if (ended || s.destroyed) return null;
        if (transportEnded) {
          // Let the TLS layer finish with the last records it was given, then take them.
          await new Promise((r) => setTimeout(r, 0));
          pending = s.read() as Uint8Array | null;
          if (pending) continue;
          if (transport!.readableLength === 0) return null;
          await new Promise<void>((r) => wake = r);
          continue;
        }
        await new Promise<void>((r) => wake = r);
      }
    },
    write(data) {
      if (failure) return Promise.reject(failure);
      if (s.destroyed || s.writableEnded) return Promise.reject(new Error("write on a closed TLS stream"));
      return new Promise((resolve, reject) => {
        s.write(data, (err?: Error | null) => err ? reject(err) : resolve());
      });
    },
    async closeWrite() {
      if (!s.destroyed && !s.writableEnded) await new Promise<void>((resolve) => s.end(() => resolve()));
      // The TLS socket sends close_notify but does not always end the stream beneath it: do
      // that here so that the peer sees the half-close.
      if (transport && !transport.destroyed && !transport.writableEnded) {
        await new Promise<void>((resolve) => transport.end(() => resolve()));
      }
    },
  };
}
