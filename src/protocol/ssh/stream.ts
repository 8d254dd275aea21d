/**
 * Bridges between our {@link Duplex} and Node streams, the two sides of npm `ssh2`: the SSH
 * transport runs over any duplex (a socket or a tunnel through earlier hops), and every SSH
 * channel comes back as a duplex with direct access, so `relay()` keeps its read loop.
 * @module
 */
import { Duplex as NodeDuplex } from "node:stream";
import { Buffer } from "node:buffer";
import { type DirectIO, type Duplex, IODuplex } from "../../core/duplex.ts";

/** Largest chunk read from the transport duplex at once. */
const TRANSPORT_READ = 64 * 1024;

/**
 * A Node duplex stream over one of our duplexes, for `ssh2` to speak SSH over. Reads are
 * pulled only while Node wants more (backpressure); writes resolve their callback once
 * the bytes are written, so the caller's buffer is never retained.
 */
export function toNodeStream(d: Duplex, onFirstChunk?: (chunk: Uint8Array) => void): NodeDuplex {
  const direct = d.direct;
  const reader = direct ? undefined : d.readable.getReader();
  const writer = direct ? undefined : d.writable.getWriter();
  let reading = false;
  const readOnce = async (): Promise<Uint8Array | null> => {
    if (direct) {
      const buf = new Uint8Array(TRANSPORT_READ);
      const n = await direct.read(buf);
      return n === null ? null : buf.subarray(0, n);
    }
    const r = await reader!.read();
    return r.done ? null : r.value;
  };
  const stream: NodeDuplex = new NodeDuplex({
    // SSH has no half-close: when the peer ends the transport, the connection is over.
    allowHalfOpen: false,
    read() {
      if (reading) return;
      reading = true;
      (async () => {
        try {
          for (;;) {
            const chunk = await readOnce();
            if (chunk === null) {
              stream.push(null);
              return;
            }
            if (chunk.length === 0) continue;
            if (onFirstChunk) {
              onFirstChunk(chunk);
              onFirstChunk = undefined;
            }
            const more = stream.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
            if (!more) return;
          }
        } catch (err) {
          stream.destroy(err as Error);
        } finally {
          reading = false;
        }
      })();
    },
    write(chunk: Uint8Array, _enc, cb) {
      const p = direct ? direct.write(chunk) : writer!.write(chunk);
      p.then(() => cb(), (err) => cb(err));
    },
    final(cb) {
      const p = direct ? direct.closeWrite() : writer!.close();
      p.then(() => cb(), () => cb());
    },
    destroy(err, cb) {
      reader?.cancel().catch(() => {});
      writer?.abort().catch(() => {});
      d.close();
      cb(err);
    },
  });
  // A read failing because the connection was closed under it is an ordinary end; ssh2
  // hears about real failures through 'close'. An 'error' nobody listens to would crash.
  stream.on("error", () => {});
  return stream;
}

/** What {@link nodeStreamIO} needs from an `ssh2` channel (a Node duplex). */
export interface NodeChannel {
  read(): Uint8Array | null;
  write(chunk: Uint8Array, cb: (err?: Error | null) => void): boolean;
  /** Sends EOF (half-close) without closing the channel. */
  eof(): void;
  destroy(): void;
  once(event: string, fn: (...args: unknown[]) => void): void;
  removeListener(event: string, fn: (...args: unknown[]) => void): void;
  readonly readableEnded: boolean;
  readonly destroyed: boolean;
}

/** Raised to a writer when the channel closed before its bytes could be sent. */
export class ChannelClosed extends Error {
  constructor() {
    super("ssh channel closed");
    this.name = "ChannelClosed";
  }
}

/**
 * Direct I/O over a Node stream. A write resolves when the stream's callback fires (the
 * bytes are in an SSH packet) or rejects when the channel closes first: `ssh2` never calls
 * back a write on a channel that is no longer open, so waiting alone could hang forever.
 */
export function nodeStreamIO(ch: NodeChannel): DirectIO {
  let leftover: Uint8Array | null = null;
  let closed = false;
  const closers = new Set<() => void>();
  const onClose = () => {
    closed = true;
    for (const c of [...closers]) c();
  };
  ch.once("close", onClose);

  const waitReadable = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        ch.removeListener("readable", done);
        ch.removeListener("end", done);
        ch.removeListener("error", done);
        closers.delete(done);
        resolve();
      };
      ch.once("readable", done);
      ch.once("end", done);
      ch.once("error", done);
      closers.add(done);
    });

  return {
    async read(buf) {
      for (;;) {
        const chunk = leftover ?? ch.read();
        leftover = null;
        if (chunk !== null) {
          if (chunk.length <= buf.length) {
            buf.set(chunk);
            return chunk.length;
          }
          buf.set(chunk.subarray(0, buf.length));
          leftover = chunk.subarray(buf.length);
          return buf.length;
        }
        if (ch.readableEnded || closed || ch.destroyed) return null;
        await waitReadable();
      }
    },
    write(data) {
      if (closed || ch.destroyed) return Promise.reject(new ChannelClosed());
      return new Promise<void>((resolve, reject) => {
        const fail = () => {
          closers.delete(fail);
          reject(new ChannelClosed());
        };
        closers.add(fail);
        ch.write(data, (err) => {
          closers.delete(fail);
          if (err) reject(err);
          else resolve();
        });
      });
    },
    closeWrite() {
      // EOF only: ssh2's end() on a server-side channel also closes it, which would cut off
      // the other direction (no half-close). Every write has completed by now.
      if (!closed && !ch.destroyed) ch.eof();
      return Promise.resolve();
    },
  };
}

/** A duplex over an `ssh2` channel, with direct access for the relay loop. */
export function channelDuplex(ch: NodeChannel, local: string, remote: string): IODuplex {
  // Errors surface through reads and writes; an unhandled 'error' event must not crash.
  (ch as unknown as { on(e: string, f: () => void): void }).on("error", () => {});
  return new IODuplex(nodeStreamIO(ch), () => ch.destroy(), local, remote);
}
