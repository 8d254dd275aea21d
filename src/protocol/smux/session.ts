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
import type { Logger } from "../../core/log.ts";
import {
  checkHeader,
  Cmd,
  encodeData,
  encodeFrame,
  encodeUpd,
  HEADER_SIZE,
  MAX_PAYLOAD,
  parseHeader,
  parseUpd,
  SmuxProtocolError,
} from "./frame.ts";

/** Session settings; defaults are `smux.DefaultConfig()`'s. */
export interface SmuxOptions {
  /** Client sessions open odd stream ids, servers even ones. */
  client: boolean;
  /** Protocol version (default 1, as gost). */
  version?: 1 | 2;
  /** How often a NOP is sent, in ms (default 10000). */
  keepAliveInterval?: number;
  /** The session ends when nothing arrived for this long, in ms (default 30000). */
  keepAliveTimeout?: number;
  /** Largest PSH payload sent (default 32768, at most 65535). */
  maxFrameSize?: number;
  /** Received bytes not yet read by the application, session-wide (default 4194304). */
  maxReceiveBuffer?: number;
  /** Version 2 per-stream window offered to the peer (default 65536). */
  maxStreamBuffer?: number;
  /** No NOPs and no keepalive timeout. */
  keepAliveDisabled?: boolean;
  /** Streams opened by the peer and not yet accepted (default 1024); extra SYNs get a FIN. */
  acceptBacklog?: number;
  /** Where protocol errors and refused streams are reported. */
  log?: Logger;
}

/** smux's initial guess of the peer's window for a new stream (version 2). */
const INITIAL_PEER_WINDOW = 262144;
/**
 * Received payloads are handed on as views of the read buffer, except small ones or ones
 * much smaller than their buffer: those are copied, so that unread data never pins more
 * than MAX_PIN_RATIO times its own size (the receive budget counts payload bytes).
 */
const COPY_BELOW = 1024;
const MAX_PIN_RATIO = 4;
/** Queued writes beyond which fire-and-forget control frames are dropped. */
const MAX_UNSENT_CONTROL = 4096;

type Resolved = Required<Omit<SmuxOptions, "log">> & { log?: Logger };

function resolve(opts: SmuxOptions): Resolved {
  const o: Resolved = {
    client: opts.client,
    version: opts.version ?? 1,
    keepAliveInterval: opts.keepAliveInterval ?? 10_000,
    keepAliveTimeout: opts.keepAliveTimeout ?? 30_000,
    maxFrameSize: opts.maxFrameSize ?? 32768,
    maxReceiveBuffer: opts.maxReceiveBuffer ?? 4194304,
    maxStreamBuffer: opts.maxStreamBuffer ?? 65536,
    keepAliveDisabled: opts.keepAliveDisabled ?? false,
    acceptBacklog: opts.acceptBacklog ?? 1024,
    log: opts.log,
  };
  const bad = (msg: string) => {
    throw new RangeError(`smux: ${msg}`);
  };
  if (o.version !== 1 && o.version !== 2) bad(`unsupported protocol version ${o.version} (expected 1 or 2)`);
  if (!o.keepAliveDisabled) {
    if (!(o.keepAliveInterval > 0)) bad(`keepAliveInterval must be positive, got ${o.keepAliveInterval} ms`);
    if (!(o.keepAliveTimeout >= o.keepAliveInterval)) {
      bad(
        `keepAliveTimeout (${o.keepAliveTimeout} ms) must not be shorter than keepAliveInterval (${o.keepAliveInterval} ms)`,
      );
    }
  }
  if (!(o.maxFrameSize > 0 && o.maxFrameSize <= MAX_PAYLOAD)) {
    bad(`maxFrameSize must be 1..${MAX_PAYLOAD}, got ${o.maxFrameSize}`);
  }
  if (!(o.maxReceiveBuffer > 0)) bad(`maxReceiveBuffer must be positive, got ${o.maxReceiveBuffer}`);
  if (
    !(o.maxStreamBuffer > 0 && o.maxStreamBuffer <= o.maxReceiveBuffer && o.maxStreamBuffer <= 0x7fffffff)
  ) {
    bad(
      `maxStreamBuffer must be positive and at most maxReceiveBuffer (${o.maxReceiveBuffer}), got ${o.maxStreamBuffer}`,
    );
  }
  if (!(o.acceptBacklog > 0)) bad(`acceptBacklog must be positive, got ${o.acceptBacklog}`);
  return o;
}

/** The session has ended (closed, peer gone, keepalive timeout or protocol error). */
export class SmuxClosedError extends Error {
  constructor(reason?: Error) {
    super(reason ? `smux session closed: ${reason.message}` : "smux session closed", { cause: reason });
    this.name = "SmuxClosedError";
  }
}

/** The transport ended (end of stream or a read error) between frames. */
class PeerClosed extends Error {}

/** What a stream needs from its session. */
interface SessionCore {
  readonly cfg: Resolved;
  readonly local: string;
  readonly remote: string;
  send(frame: Uint8Array): Promise<void>;
  sendControl(frame: Uint8Array): void;
  returnTokens(n: number): void;
  forget(stream: SmuxStream): void;
}

/** Multiplexes streams over one duplex, wire-compatible with xtaci/smux v1.5.x. */
export class SmuxSession {
  readonly #conn: Duplex;
  readonly #cfg: Resolved;
  readonly #reader: ChunkReader;
  readonly #io?: DirectIO;
  readonly #writer?: WritableStreamDefaultWriter<Uint8Array>;
  #writeTail: Promise<unknown> = Promise.resolve();
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
    this.#cfg = resolve(opts);
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
    this.#unsent++;
    let p: Promise<void>;
    if (this.#io) {
      const io = this.#io;
      p = this.#writeTail.then(() => {
        if (this.#closed) throw new SmuxClosedError(this.#error);
        return io.write(buf);
      });
      this.#writeTail = p.catch(() => {});
    } else {
      p = this.#writer!.write(buf);
    }
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

/** One smux stream, seen as a {@link Duplex}. */
class SmuxStream implements Duplex {
  readonly id: number;
  readonly local: string;
  readonly remote: string;
  readonly #s: SessionCore;
  #queue: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  #readWaiter: (() => void) | null = null;
  #remoteFin = false;
  #localFin = false;
  #closed = false;
  #ended = false;
  #endError?: Error;
  // version 2 flow control
  #numRead = 0;
  #incr = 0;
  #numWritten = 0;
  #peerConsumed = 0;
  #peerWindow = INITIAL_PEER_WINDOW;
  #updateWaiter: (() => void) | null = null;
  #readable?: ReadableStream<Uint8Array>;
  #writable?: WritableStream<Uint8Array>;
  #io: DirectIO;

  constructor(id: number, core: SessionCore) {
    this.id = id;
    this.#s = core;
    this.local = core.local;
    this.remote = core.remote;
    this.#io = {
      read: (buf) => this.#readInto(buf),
      write: (data) => this.#write(data),
      closeWrite: () => this.#closeWrite(),
    };
  }

  get direct(): DirectIO | undefined {
    return this.#readable || this.#writable ? undefined : this.#io;
  }

  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.#nextChunk(Infinity);
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.#write(chunk),
      close: () => this.#closeWrite(),
      abort: () => this.close(),
    });
    return this.#writable;
  }

  /** Sends FIN if not yet sent and drops the stream; unread data is discarded. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#localFin && !this.#ended) {
      this.#localFin = true;
      this.#s.sendControl(encodeFrame(this.#s.cfg.version, Cmd.FIN, this.id));
    }
    this.#s.forget(this);
    this.#recycle();
    this.#wake();
  }

  // ---- called by the session ----

  /** Queues received data; false when the stream no longer takes data (dropped). */
  push(data: Uint8Array): boolean {
    if (this.#closed || this.#remoteFin) return false;
    this.#queue.push(data);
    this.#queued += data.length;
    this.#wakeReader();
    return true;
  }

  remoteFin(): void {
    if (this.#remoteFin) return;
    this.#remoteFin = true;
    if (this.#localFin) this.#s.forget(this);
    this.#wake();
  }

  update(consumed: number, window: number): void {
    this.#peerConsumed = consumed;
    this.#peerWindow = window;
    const w = this.#updateWaiter;
    this.#updateWaiter = null;
    w?.();
  }

  sessionEnded(err?: Error): void {
    this.#ended = true;
    this.#endError = err;
    this.#wake();
  }

  // ---- reading ----

  /** The next received bytes (at most `max`), or null at end of stream. */
  async #nextChunk(max: number): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#queued > 0) {
        const c = this.#queue[this.#head];
        let out: Uint8Array;
        if (c.length <= max) {
          out = c;
          this.#queue[this.#head++] = EMPTY;
          if (this.#head === this.#queue.length) {
            this.#queue = [];
            this.#head = 0;
          } else if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
            this.#queue = this.#queue.slice(this.#head);
            this.#head = 0;
          }
        } else {
          out = c.subarray(0, max);
          this.#queue[this.#head] = c.subarray(max);
        }
        this.#queued -= out.length;
        this.#consumed(out.length);
        return out;
      }
      if (this.#closed || this.#remoteFin) return null;
      if (this.#ended) {
        if (this.#endError) throw new SmuxClosedError(this.#endError);
        return null;
      }
      await new Promise<void>((r) => (this.#readWaiter = r));
    }
  }

  async #readInto(buf: Uint8Array): Promise<number | null> {
    const chunk = await this.#nextChunk(buf.length);
    if (!chunk) return null;
    buf.set(chunk);
    return chunk.length;
  }

  #consumed(n: number) {
    this.#s.returnTokens(n);
    const cfg = this.#s.cfg;
    if (cfg.version < 2) return;
    this.#numRead = (this.#numRead + n) >>> 0;
    this.#incr += n;
    // Report at the first read (the peer started from a guessed window) and then every
    // half window, as smux does.
    if (this.#incr >= cfg.maxStreamBuffer / 2 || this.#numRead === n) {
      this.#incr = 0;
      if (!this.#closed && !this.#ended) {
        this.#s.sendControl(encodeUpd(cfg.version, this.id, this.#numRead, cfg.maxStreamBuffer));
      }
    }
  }

  #recycle() {
    if (this.#queued > 0) this.#s.returnTokens(this.#queued);
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
  }

  // ---- writing ----

  #writeError(): Error | null {
    if (this.#ended) return new SmuxClosedError(this.#endError);
    if (this.#closed || this.#localFin) return new Error(`smux stream ${this.id}: write after close`);
    return null;
  }

  async #write(data: Uint8Array): Promise<void> {
    let err = this.#writeError();
    if (err) throw err;
    if (data.length === 0) return;
    const cfg = this.#s.cfg;
    if (cfg.version < 2) {
      return this.#s.send(encodeData(cfg.version, this.id, data, cfg.maxFrameSize));
    }
    let off = 0;
    while (off < data.length) {
      const inflight = (this.#numWritten - this.#peerConsumed) | 0;
      if (inflight < 0) {
        throw new SmuxProtocolError(`peer reported more consumed than was sent on stream ${this.id}`);
      }
      const win = this.#peerWindow - inflight;
      if (win > 0) {
        const n = Math.min(win, data.length - off);
        this.#numWritten = (this.#numWritten + n) >>> 0;
        await this.#s.send(encodeData(cfg.version, this.id, data.subarray(off, off + n), cfg.maxFrameSize));
        off += n;
      } else if (!(await this.#waitWindow())) {
        throw new Error(`smux stream ${this.id}: the peer closed the stream and stopped reading`);
      }
      if (off < data.length && (err = this.#writeError())) throw err;
    }
  }

  /**
   * Waits for an UPD. Once the peer sent FIN it may have dropped the stream altogether (smux
   * peers close both ways): then wait at most keepAliveTimeout; false when that ran out.
   */
  async #waitWindow(): Promise<boolean> {
    if (!this.#remoteFin) {
      await new Promise<void>((r) => (this.#updateWaiter = r));
      return true;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const updated = await new Promise<boolean>((r) => {
      this.#updateWaiter = () => r(true);
      timer = setTimeout(() => r(false), this.#s.cfg.keepAliveTimeout);
    });
    clearTimeout(timer);
    return updated;
  }

  async #closeWrite(): Promise<void> {
    if (this.#localFin || this.#closed || this.#ended) return;
    this.#localFin = true;
    if (this.#remoteFin) this.#s.forget(this);
    this.#wake();
    await this.#s.send(encodeFrame(this.#s.cfg.version, Cmd.FIN, this.id));
  }

  #wakeReader() {
    const r = this.#readWaiter;
    this.#readWaiter = null;
    r?.();
  }

  #wake() {
    this.#wakeReader();
    const w = this.#updateWaiter;
    this.#updateWaiter = null;
    w?.();
  }
}

const EMPTY = new Uint8Array(0);
