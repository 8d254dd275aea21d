/**
 * `ssh2` channels as duplexes with direct access, so `relay()` keeps its read loop. (The
 * other direction, the SSH transport over any duplex, is core's `toNodeStream`.)
 * @module
 */
import { type DirectIO, IODuplex } from "../../core/duplex.ts";

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
