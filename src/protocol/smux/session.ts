/**
 * An smux session (xtaci/smux protocol versions 1 and 2): many streams over one duplex.
 *
 * KCP runs it over snappy framing, relay TCP BIND and SOCKS5 MBIND run it over the
 * proxy connection. Each stream is a {@link Duplex}: `writable.close()` (or
 * `direct.closeWrite()`) sends FIN, `close()` sends FIN if not yet sent and drops the
 * stream. A received FIN is end of stream for the reader. Unlike smux (whose writes fail
 * after the peer's FIN), the stream stays writable, like a half-closed socket, so two
 * gost-deno ends carry half-close; a real smux peer has closed the stream when it sends FIN
 * and drops what still arrives. In version 2 a write that waits for window after the
 * peer's FIN gives up after `keepAliveTimeout`, since such a peer never updates it.
 *
 * Flow control: every received payload counts against the session's `maxReceiveBuffer`
 * until the application reads it; at zero the session stops reading the connection (the
 * transport's own backpressure then holds the peer). Version 2 adds per-stream windows:
 * the reader reports what it consumed (UPD) and the writer keeps at most the peer's
 * window in flight.
 * @module
 */
import type { DirectIO, Duplex } from "../../core/duplex.ts";
import { ChunkReader } from "../../core/chunk_reader.ts";
import { UnexpectedEOF } from "../../core/buffered_reader.ts";
import { errorMessage } from "../../core/errors.ts";
import { ScratchBuffer } from "../../core/read_buffer.ts";
import { resolveSmuxOptions, SmuxClosedError, type SmuxConfig, type SmuxOptions } from "./config.ts";
import {
  checkHeader,
  Cmd,
  dataFramesLength,
  encodeData,
  encodeFrame,
  HEADER_SIZE,
  parseHeader,
  parseUpd,
  SmuxProtocolError,
} from "./frame.ts";
import { type SessionCore, SmuxStream } from "./stream.ts";

export { SmuxClosedError, type SmuxOptions };

/**
 * Received payloads are handed on as views of the read buffer, except small ones or ones
 * much smaller than their buffer: those are copied, so that unread data never pins more
 * than MAX_PIN_RATIO times its own size (the receive budget counts payload bytes).
 */
const COPY_BELOW = 1024;
const MAX_PIN_RATIO = 4;
/** Queued writes beyond which fire-and-forget control frames are dropped. */
const MAX_UNSENT_CONTROL = 4096;

/** The transport ended (end of stream or a read error) between frames. */
class PeerClosed extends Error {}

/** Multiplexes streams over one duplex, wire-compatible with xtaci/smux v1.5.x. */
export class SmuxSession {
  readonly #conn: Duplex;
  readonly #cfg: SmuxConfig;
  readonly #reader: ChunkReader;
  readonly #io?: DirectIO;
  readonly #writer?: WritableStreamDefaultWriter<Uint8Array>;
  #writeTail: Promise<unknown> = Promise.resolve();
  /** Where PSH frames are built on the direct path (see {@link SmuxSession.#sendData}). */
  readonly #frames = new ScratchBuffer(4096);
  readonly #streams = new Map<number, SmuxStream>();
  #backlog: SmuxStream[] = [];
  #acceptWaiters: ((s: Duplex | null) => void)[] = [];
  #nextId: number;
  #bucket: number;
  #bucketWaiter: (() => void) | null = null;
  #dataReady = false;
  #nopPending = false;
  #closed = false;
  #error?: Error;
  #refused = 0;
  /** Frames handed to the connection and not yet written. */
  #unsent = 0;
  #timers: ReturnType<typeof setInterval>[] = [];
  #resolveDone!: () => void;
  readonly #core: SessionCore;
  /** Resolves when the session ends: closed here, peer gone, keepalive timeout or protocol error. */
  readonly done: Promise<void>;

  constructor(conn: Duplex, opts: SmuxOptions) {
    this.#cfg = resolveSmuxOptions(opts);
    this.#conn = conn;
    // Take the transport's direct path when it has one (a socket): reads go into our own
    // buffers and frames are written without a stream layer in between.
    this.#io = conn.direct;
    this.#reader = new ChunkReader(conn);
    if (!this.#io) this.#writer = conn.writable.getWriter();
    this.#nextId = this.#cfg.client ? 1 : 0;
    this.#bucket = this.#cfg.maxReceiveBuffer;
    this.done = new Promise((r) => (this.#resolveDone = r));
    this.#core = {
      cfg: this.#cfg,
      local: conn.local,
      remote: conn.remote,
      send: (f) => this.#send(f),
      sendData: (id, data) => this.#sendData(id, data),
      sendControl: (f) => {
        // Fire-and-forget frames (FIN on close, UPD): a peer that stops reading must not
        // make them pile up without bound.
        if (this.#unsent >= MAX_UNSENT_CONTROL) return;
        this.#send(f).catch(() => {});
      },
      returnTokens: (n) => {
        this.#bucket += n;
        if (this.#bucket > 0) this.#wakeBucket();
      },
      forget: (stream) => {
        // The peer may already have reopened the same id: remove only this stream.
        if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
      },
    };
    if (!this.#cfg.keepAliveDisabled) this.#startKeepalive();
    this.#recvLoop();
  }

  /** True once the session has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the session ended, when it ended on an error (undefined after a plain close). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Open streams (including those opened by the peer and not yet accepted). */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Opens a stream (sends SYN). Rejects when the session is closed or ids are exhausted. */
  async openStream(): Promise<Duplex> {
    if (this.#closed) throw new SmuxClosedError(this.#error);
    if (this.#nextId + 2 > 0xffffffff) {
      throw new Error("smux: stream ids exhausted on this session; open a new connection");
    }
    this.#nextId += 2;
    const id = this.#nextId;
    const stream = new SmuxStream(id, this.#core);
    this.#streams.set(id, stream);
    try {
      await this.#send(encodeFrame(this.#cfg.version, Cmd.SYN, id));
    } catch (err) {
      this.#streams.delete(id);
      throw err;
    }
    return stream;
  }

  /** The next stream opened by the peer, or null once the session is closed. */
  accept(): Promise<Duplex | null> {
    if (this.#closed) return Promise.resolve(null);
    const s = this.#backlog.shift();
    if (s) return Promise.resolve(s);
    return new Promise((r) => this.#acceptWaiters.push(r));
  }

  /** Ends the session at once: closes the connection and every stream. */
  close(): void {
    this.#finish();
  }

  // ---- sending ----

  /** Queues one buffer (one or more whole frames) for the connection, in order. */
  #send(buf: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new SmuxClosedError(this.#error));
    return this.#track(this.#io ? this.#queueDirect(this.#io, () => buf) : this.#writer!.write(buf));
  }

  /**
   * Queues PSH frames for `data`. On the direct path they are framed into one reused buffer
   * when their turn comes (the write before it has finished with that buffer), so a bulk
   * transfer allocates nothing per write; a stream may keep its chunks, so it gets fresh ones.
   */
  #sendData(streamId: number, data: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new SmuxClosedError(this.#error));
    const { version, maxFrameSize } = this.#cfg;
    if (!this.#io) return this.#track(this.#writer!.write(encodeData(version, streamId, data, maxFrameSize)));
    const scratch = this.#frames;
    let out: Uint8Array | undefined;
    const p = this.#queueDirect(this.#io, () => {
      out = scratch.take(dataFramesLength(data.length, maxFrameSize));
      return encodeData(version, streamId, data, maxFrameSize, out);
    });
    return this.#track(p.finally(() => out && scratch.give(out)));
  }

  /** Writes what `frames()` makes once every write queued before it has finished. */
  #queueDirect(io: DirectIO, frames: () => Uint8Array): Promise<void> {
    const p = this.#writeTail.then(() => {
      if (this.#closed) throw new SmuxClosedError(this.#error);
      return io.write(frames());
    });
    this.#writeTail = p.catch(() => {});
    return p;
  }

  /** Counts a queued write until it settles; a failed write ends the session. */
  #track(p: Promise<void>): Promise<void> {
    this.#unsent++;
    p.then(
      () => this.#unsent--,
      (err) => {
        this.#unsent--;
        this.#finish(err instanceof SmuxClosedError ? undefined : err);
      },
    );
    return p;
  }

  // ---- receiving ----

  async #recvLoop(): Promise<void> {
    const reader = this.#reader;
    const version = this.#cfg.version;
    try {
      for (;;) {
        while (this.#bucket <= 0 && !this.#closed) {
          await new Promise<void>((r) => (this.#bucketWaiter = r));
        }
        if (this.#closed) return;
        const hb = reader.take(HEADER_SIZE) ?? await reader.read(HEADER_SIZE, "smux frame header");
        if (!hb) {
          this.#finish(new PeerClosed("connection closed by peer"));
          return;
        }
        if (this.#closed) return;
        this.#dataReady = true;
        const h = parseHeader(hb);
        const bad = checkHeader(h, version);
        if (bad) throw bad;
        switch (h.cmd) {
          case Cmd.NOP:
            break;
          case Cmd.SYN:
            this.#onSyn(h.streamId);
            break;
          case Cmd.FIN:
            this.#streams.get(h.streamId)?.remoteFin();
            break;
          case Cmd.PSH: {
            if (h.length === 0) break;
            let payload = reader.take(h.length) ?? await reader.readFull(h.length, "smux frame payload");
            if (this.#closed) return;
            const stream = this.#streams.get(h.streamId);
            if (stream) {
              if (payload.length < COPY_BELOW || payload.length * MAX_PIN_RATIO < payload.buffer.byteLength) {
                payload = payload.slice();
              }
              if (stream.push(payload)) this.#bucket -= payload.length;
            }
            break;
          }
          case Cmd.UPD: {
            const payload = reader.take(h.length) ?? await reader.readFull(h.length, "smux UPD payload");
            if (this.#closed) return;
            const { consumed, window } = parseUpd(payload);
            this.#streams.get(h.streamId)?.update(consumed, window);
            break;
          }
        }
      }
    } catch (err) {
      if (this.#closed) return;
      const e = err instanceof UnexpectedEOF
        ? new SmuxProtocolError(`connection closed by peer in the middle of a frame`)
        : err instanceof Error
        ? err
        : new Error(errorMessage(err));
      this.#finish(e);
    }
  }

  #onSyn(id: number) {
    if (this.#streams.has(id)) return; // a repeated SYN changes nothing, as in smux
    const ownParity = this.#cfg.client ? 1 : 0;
    if (id === 0 || (id & 1) === ownParity) {
      this.#cfg.log?.warn(`smux: refused stream ${id} opened by the peer: that id belongs to this side`);
      this.#core.sendControl(encodeFrame(this.#cfg.version, Cmd.FIN, id));
      return;
    }
    if (this.#backlog.length >= this.#cfg.acceptBacklog) {
      if (this.#refused++ % 1000 === 0) {
        this.#cfg.log?.warn(
          `smux: refused stream ${id}: ${this.#backlog.length} streams wait to be accepted (backlog full; ${this.#refused} refused so far)`,
        );
      }
      this.#core.sendControl(encodeFrame(this.#cfg.version, Cmd.FIN, id));
      return;
    }
    const stream = new SmuxStream(id, this.#core);
    this.#streams.set(id, stream);
    const waiter = this.#acceptWaiters.shift();
    if (waiter) waiter(stream);
    else this.#backlog.push(stream);
  }

  #wakeBucket() {
    const w = this.#bucketWaiter;
    this.#bucketWaiter = null;
    w?.();
  }

  // ---- keepalive and ending ----

  #startKeepalive() {
    const { version, keepAliveInterval, keepAliveTimeout } = this.#cfg;
    const nop = encodeFrame(version, Cmd.NOP, 0);
    const ping = setInterval(() => {
      if (this.#nopPending) return; // the last one is still queued: the link is busy anyway
      this.#nopPending = true;
      this.#send(nop).catch(() => {}).finally(() => (this.#nopPending = false));
    }, keepAliveInterval);
    const check = setInterval(() => {
      if (this.#dataReady) {
        this.#dataReady = false;
        return;
      }
      // While the application is not reading, the session itself stopped reading: the
      // silence is ours, not the peer's.
      if (this.#bucket > 0) {
        this.#finish(
          new Error(`keepalive timeout: nothing received from the peer for ${keepAliveTimeout} ms`),
        );
      }
    }, keepAliveTimeout);
    this.#timers.push(ping, check);
  }

  #finish(err?: Error) {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = err;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#wakeBucket();
    this.#reader.cancel();
    this.#writer?.abort(err).catch(() => {});
    this.#conn.close();
    for (const s of this.#streams.values()) s.sessionEnded(err);
    this.#streams.clear();
    this.#backlog = [];
    for (const w of this.#acceptWaiters) w(null);
    this.#acceptWaiters = [];
    if (err) {
      // A peer that goes away is ordinary; a broken protocol or a dead link is worth a look.
      const level = err instanceof SmuxProtocolError ? "error" : err instanceof PeerClosed ? "debug" : "warn";
      this.#cfg.log?.log(level, `smux session ended: ${err.message}`, { remote: this.#conn.remote });
    }
    this.#resolveDone();
  }
}
