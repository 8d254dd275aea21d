/**
 * An HTTP/2 connection (RFC 9113) over any duplex, client or server side, carrying streams
 * ({@link Http2Stream}): what the h2/h2c and gRPC channels and the http2 proxy run on.
 *
 * It does what a tunnel needs and no more: SETTINGS (both ways, ACKed), PING answers,
 * GOAWAY, RST_STREAM, HEADERS with CONTINUATION, and flow control on both levels — a stream's
 * unread data counts against the window we announced, and window is returned as the
 * application reads, so a reader that stops holds its peer within that window. No server push
 * (we announce ENABLE_PUSH 0 as a client and never push), no priorities (PRIORITY is ignored).
 * @module
 */
import { UnexpectedEOF } from "../../core/buffered_reader.ts";
import { concat } from "../../core/bytes.ts";
import { ChunkReader } from "../../core/chunk_reader.ts";
import type { DirectIO, Duplex } from "../../core/duplex.ts";
import { errorMessage } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import {
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  encodeFrame,
  encodeGoAway,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  ErrorCode,
  Flag,
  FRAME_HEADER,
  FrameType,
  Http2Error,
  MAX_WINDOW,
  parseErrorCode,
  parseFrameHeader,
  parseSettings,
  parseWindowUpdate,
  PREFACE,
  putFrameHeader,
  Setting,
  unpad,
} from "./frame.ts";
import { type HeaderField, HpackDecoder, hpackEncode } from "./hpack.ts";
import { Http2Stream, type StreamCore, StreamResetError } from "./stream.ts";

/** How a session is set up. */
export interface Http2SessionOptions {
  client: boolean;
  /** SETTINGS announced at start, in this order ([id, value]). */
  settings?: [number, number][];
  /** Connection window added at start (a WINDOW_UPDATE on stream 0); 0 for none. */
  connectionWindowIncrement?: number;
  /** Streams opened by the peer and not yet accepted; more are refused (REFUSED_STREAM). */
  acceptBacklog?: number;
  /** Most streams the peer may have open at once; more are refused (REFUSED_STREAM). */
  maxConcurrentStreams?: number;
  /** PING every `interval` ms; no answer within `timeout` ms ends the session. */
  keepAlive?: { interval: number; timeout: number };
  log?: Logger;
}

/** The session ended because the peer went away or broke the protocol. */
export class Http2SessionClosed extends Error {
  constructor(reason?: Error) {
    super(`http2 session closed${reason ? `: ${reason.message}` : ""}`, { cause: reason });
    this.name = "Http2SessionClosed";
  }
}

const settingOf = (s: [number, number][], id: number, def: number) => s.find(([k]) => k === id)?.[1] ?? def;

/** An HTTP/2 connection (see the module note). */
export class Http2Session {
  readonly #conn: Duplex;
  readonly #io?: DirectIO;
  readonly #writer?: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ChunkReader;
  readonly #opts: Http2SessionOptions;
  readonly #core: StreamCore;
  readonly #streams = new Map<number, Http2Stream>();
  readonly #hpack: HpackDecoder;
  #writeTail: Promise<unknown> = Promise.resolve();
  #nextId: number;
  #lastPeerId = 0;
  #backlog: Http2Stream[] = [];
  #acceptWaiters: ((s: Http2Stream | null) => void)[] = [];
  // Our receive side (what we announced).
  readonly #recvStreamWindow: number;
  readonly #maxFrameIn: number;
  readonly #connRecvWindow: number;
  /** What the peer may still send on the connection before we return window. */
  #connRecvAvail: number;
  #connUnacked = 0;
  // The peer's receive side (what we may send).
  #peerStreamWindow = DEFAULT_WINDOW;
  #peerMaxFrame = DEFAULT_MAX_FRAME;
  #connSendWindow = DEFAULT_WINDOW;
  #connWindowWaiters: (() => void)[] = [];
  #goAway = false;
  #closeTimer?: ReturnType<typeof setTimeout>;
  #pingTimer?: ReturnType<typeof setInterval>;
  /** When the oldest unanswered keepalive PING was sent (0: none outstanding). */
  #pingSent = 0;
  #closed = false;
  #error?: Error;
  #resolveDone!: () => void;
  /** Resolves when the session has ended. */
  readonly done: Promise<void>;

  constructor(conn: Duplex, opts: Http2SessionOptions) {
    this.#conn = conn;
    this.#opts = opts;
    this.#io = conn.direct;
    this.#reader = new ChunkReader(conn);
    if (!this.#io) this.#writer = conn.writable.getWriter();
    this.#nextId = opts.client ? 1 : 2;
    const settings = opts.settings ?? [];
    this.#recvStreamWindow = settingOf(settings, Setting.INITIAL_WINDOW_SIZE, DEFAULT_WINDOW);
    this.#maxFrameIn = settingOf(settings, Setting.MAX_FRAME_SIZE, DEFAULT_MAX_FRAME);
    this.#connRecvWindow = DEFAULT_WINDOW + (opts.connectionWindowIncrement ?? 0);
    this.#connRecvAvail = this.#connRecvWindow;
    this.#hpack = new HpackDecoder(
      settingOf(settings, Setting.HEADER_TABLE_SIZE, 4096),
      settingOf(settings, Setting.MAX_HEADER_LIST_SIZE, 1 << 20),
    );
    this.done = new Promise((r) => (this.#resolveDone = r));
    this.#core = {
      local: conn.local,
      remote: conn.remote,
      sendData: (s, data, end) => this.#sendData(s, data, end),
      sendHeaders: (s, fields, end) => this.#sendHeaders(s.id, fields, end),
      sendReset: (s, code) => this.#sendControl(encodeRstStream(s.id, code)),
      consumed: (s, n) => this.#consumed(s, n),
      forget: (s) => this.#streams.get(s.id) === s && this.#streams.delete(s.id),
    };
    this.#run();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Streams open now. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** True when no new stream may be opened (closed, or the peer sent GOAWAY). */
  get draining(): boolean {
    return this.#closed || this.#goAway;
  }

  /** Client: opens a stream with request `fields` (sends HEADERS). */
  async request(fields: HeaderField[], endStream = false): Promise<Http2Stream> {
    if (this.draining) throw new Http2SessionClosed(this.#error);
    const id = this.#nextId;
    if (id > MAX_WINDOW) throw new Error("http2: stream ids exhausted on this connection");
    this.#nextId += 2;
    const s = new Http2Stream(id, this.#core, this.#peerStreamWindow, this.#recvStreamWindow);
    this.#streams.set(id, s);
    await this.#sendHeaders(id, fields, endStream);
    if (endStream) await s.end();
    return s;
  }

  /** Server: the next stream the client opened, or null once the session is closed. */
  accept(): Promise<Http2Stream | null> {
    const s = this.#backlog.shift();
    if (s) return Promise.resolve(s);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((r) => this.#acceptWaiters.push(r));
  }

  /** Ends the session: GOAWAY (NO_ERROR) if it is still up, then the connection closes. */
  close(): void {
    if (this.#closed) return;
    this.#send(encodeGoAway(this.#lastPeerId, ErrorCode.NO_ERROR)).catch(() => {}).finally(() =>
      this.#finish()
    );
    // Do not wait for a peer that stopped reading.
    this.#closeTimer = setTimeout(() => this.#finish(), 100);
  }

  // ---- sending ----

  #send(buf: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new Http2SessionClosed(this.#error));
    const p = this.#writeTail.then(() => {
      if (this.#closed) throw new Http2SessionClosed(this.#error);
      return this.#io ? this.#io.write(buf) : this.#writer!.write(buf);
    });
    this.#writeTail = p.catch(() => {});
    return p;
  }

  /** Fire-and-forget frames (RST_STREAM, WINDOW_UPDATE, SETTINGS ACK, PING ACK). */
  #sendControl(frame: Uint8Array): void {
    this.#send(frame).catch(() => {});
  }

  #sendHeaders(id: number, fields: HeaderField[], endStream: boolean): Promise<void> {
    const block = hpackEncode(fields);
    const frames: Uint8Array[] = [];
    for (let off = 0, first = true; first || off < block.length; first = false) {
      const part = block.subarray(off, off + this.#peerMaxFrame);
      off += part.length;
      const last = off >= block.length;
      const flags = (last ? Flag.END_HEADERS : 0) | (first && endStream ? Flag.END_STREAM : 0);
      frames.push(encodeFrame(first ? FrameType.HEADERS : FrameType.CONTINUATION, flags, id, part));
    }
    // One write: nothing may come between HEADERS and its CONTINUATIONs.
    return this.#send(frames.length === 1 ? frames[0] : concat(frames));
  }

  /**
   * DATA frames for `data`, as many as the windows allow at a time in one buffer and one write: a
   * peer that takes 16 KiB frames (Go's client) otherwise costs a write, and over TLS a record, per
   * 16 KiB (relay+h2 reverse, 512 KiB reads: 32 writes per chunk).
   */
  async #sendData(s: Http2Stream, data: Uint8Array, endStream: boolean): Promise<void> {
    let off = 0;
    do {
      if (data.length > 0) {
        await s.waitSendWindow();
        while (this.#connSendWindow <= 0) {
          if (this.#closed) throw new Http2SessionClosed(this.#error);
          await new Promise<void>((r) => this.#connWindowWaiters.push(r));
        }
      }
      // An empty DATA frame (END_STREAM alone) needs no window, which may be spent (or negative).
      const total = data.length === 0 ? 0 : Math.min(data.length - off, s.sendWindow, this.#connSendWindow);
      const last = off + total >= data.length;
      const max = this.#peerMaxFrame;
      const frames = Math.max(1, Math.ceil(total / max));
      const out = new Uint8Array(total + frames * FRAME_HEADER);
      let dst = 0;
      for (let done = 0, i = 0; i < frames; i++) {
        const n = Math.min(max, total - done);
        const flags = last && endStream && i === frames - 1 ? Flag.END_STREAM : 0;
        putFrameHeader(out, dst, { length: n, type: FrameType.DATA, flags, streamId: s.id });
        out.set(data.subarray(off + done, off + done + n), dst + FRAME_HEADER);
        done += n;
        dst += FRAME_HEADER + n;
      }
      s.sendWindow -= total;
      this.#connSendWindow -= total;
      off += total;
      await this.#send(out);
    } while (off < data.length);
  }

  /** The application read `n` bytes of `s`: return window once half of it is used. */
  #consumed(s: Http2Stream, n: number): void {
    if (this.#closed || n === 0) return;
    this.#returnConnWindow(n);
    s.unacked += n;
    if (!s.done && s.unacked >= this.#recvStreamWindow / 2) {
      s.recvWindow += s.unacked;
      this.#sendControl(encodeWindowUpdate(s.id, s.unacked));
      s.unacked = 0;
    }
  }

  /** Counts `n` read (or discarded) bytes against the connection window; returns it at half. */
  #returnConnWindow(n: number): void {
    this.#connUnacked += n;
    if (this.#connUnacked >= this.#connRecvWindow / 2) {
      this.#sendControl(encodeWindowUpdate(0, this.#connUnacked));
      this.#connRecvAvail += this.#connUnacked;
      this.#connUnacked = 0;
    }
  }

  // ---- receiving ----

  async #run(): Promise<void> {
    try {
      if (this.#opts.client) {
        await this.#send(concat([PREFACE, ...this.#startFrames()]));
      } else {
        const preface = await this.#reader.readFull(PREFACE.length, "http2 client preface");
        if (!preface.every((b, i) => b === PREFACE[i])) {
          throw new Http2Error("not an HTTP/2 client preface (the client does not speak h2 prior knowledge)");
        }
        await this.#send(concat(this.#startFrames()));
      }
      this.#startKeepAlive();
      await this.#readFrames();
    } catch (err) {
      if (this.#closed) return;
      const e = err instanceof UnexpectedEOF
        ? new Http2Error("connection closed by peer in the middle of a frame")
        : err instanceof Error
        ? err
        : new Error(String(err));
      if (e instanceof Http2Error) {
        await this.#send(encodeGoAway(this.#lastPeerId, e.code, e.message)).catch(() => {});
      }
      this.#finish(e);
    }
  }

  #startKeepAlive(): void {
    const ka = this.#opts.keepAlive;
    if (!ka || ka.interval <= 0) return;
    let lastPing = performance.now();
    this.#pingTimer = setInterval(() => {
      const now = performance.now();
      if (this.#pingSent) {
        if (now - this.#pingSent > ka.timeout) {
          this.#finish(new Error(`no answer to a keepalive PING within ${ka.timeout} ms`));
        }
      } else if (now - lastPing >= ka.interval) {
        this.#pingSent = lastPing = now;
        this.#sendControl(encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8)));
      }
    }, Math.min(1000, ka.interval, ka.timeout));
  }

  #startFrames(): Uint8Array[] {
    const frames = [encodeSettings(this.#opts.settings ?? [])];
    const incr = this.#opts.connectionWindowIncrement ?? 0;
    if (incr > 0) frames.push(encodeWindowUpdate(0, incr));
    return frames;
  }

  async #readFrames(): Promise<void> {
    const r = this.#reader;
    let headerBlock: { id: number; end: boolean; parts: Uint8Array[] } | null = null;
    for (;;) {
      const hb = r.take(FRAME_HEADER) ?? await r.read(FRAME_HEADER, "http2 frame header");
      if (!hb) return this.#finish(this.#goAway ? undefined : new Error("connection closed by peer"));
      const h = parseFrameHeader(hb);
      if (h.length > this.#maxFrameIn) {
        throw new Http2Error(
          `frame of ${h.length} bytes over ${this.#maxFrameIn}`,
          ErrorCode.FRAME_SIZE_ERROR,
        );
      }
      const payload = h.length === 0
        ? new Uint8Array(0)
        : r.take(h.length) ?? await r.readFull(h.length, "http2 frame payload");
      if (this.#closed) return;
      if (headerBlock && (h.type !== FrameType.CONTINUATION || h.streamId !== headerBlock.id)) {
        throw new Http2Error("a header block interrupted by another frame");
      }
      switch (h.type) {
        case FrameType.DATA:
          this.#onData(h.streamId, h.flags, unpad(h, payload), h.length);
          break;
        case FrameType.HEADERS:
        case FrameType.CONTINUATION: {
          if (h.type === FrameType.CONTINUATION && !headerBlock) {
            throw new Http2Error("CONTINUATION without HEADERS");
          }
          headerBlock ??= { id: h.streamId, end: (h.flags & Flag.END_STREAM) !== 0, parts: [] };
          headerBlock.parts.push(h.type === FrameType.HEADERS ? unpad(h, payload) : payload.slice());
          if (h.flags & Flag.END_HEADERS) {
            const { id, end, parts } = headerBlock;
            headerBlock = null;
            this.#onHeaders(id, this.#hpack.decode(concat(parts)), end);
          }
          break;
        }
        case FrameType.RST_STREAM:
          this.#streams.get(h.streamId)?.onReset(
            new StreamResetError(h.streamId, parseErrorCode(h.type, payload), "peer"),
          );
          break;
        case FrameType.SETTINGS:
          if (!(h.flags & Flag.ACK)) this.#onSettings(parseSettings(payload));
          break;
        case FrameType.PING:
          if (!(h.flags & Flag.ACK)) {
            this.#sendControl(encodeFrame(FrameType.PING, Flag.ACK, 0, payload.slice()));
          }
          break;
        case FrameType.GOAWAY:
          this.#goAway = true;
          if (this.#streams.size === 0) return this.#finish();
          break;
        case FrameType.WINDOW_UPDATE:
          this.#onWindowUpdate(h.streamId, parseWindowUpdate(payload));
          break;
        case FrameType.PUSH_PROMISE:
          throw new Http2Error("PUSH_PROMISE, though push is off");
        default:
          break; // PRIORITY and unknown types are ignored (section 5.5)
      }
    }
  }

  #onData(id: number, flags: number, data: Uint8Array, frameLength: number): void {
    // Flow control counts the whole frame, padding included.
    this.#connRecvAvail -= frameLength;
    if (this.#connRecvAvail < 0) {
      throw new Http2Error("sent past the connection window", ErrorCode.FLOW_CONTROL_ERROR);
    }
    const s = this.#streams.get(id);
    if (s && frameLength > s.recvWindow) {
      throw new Http2Error(`stream ${id} sent past its window`, ErrorCode.FLOW_CONTROL_ERROR);
    }
    const padding = frameLength - data.length;
    if (s) s.recvWindow -= frameLength;
    // Small payloads are copied: a view would pin the reader's whole buffer.
    const taken = s?.onData(data.length < 4096 ? data.slice() : data);
    // Data nobody will read (an unknown or closed stream) and padding go straight back.
    const giveBack = (taken ? 0 : data.length) + padding;
    if (giveBack && !this.#closed) this.#returnConnWindow(giveBack);
    if (flags & Flag.END_STREAM) s?.onEnd();
  }

  #onHeaders(id: number, fields: HeaderField[], endStream: boolean): void {
    const existing = this.#streams.get(id);
    if (existing) return existing.onHeaders(fields, endStream);
    if (this.#opts.client || id % 2 === 0 || id <= this.#lastPeerId) return; // a stream we reset: ignore
    this.#lastPeerId = id;
    const full = this.#backlog.length >= (this.#opts.acceptBacklog ?? 128) ||
      this.#streams.size >= (this.#opts.maxConcurrentStreams ?? Infinity);
    if (full || this.#goAway) {
      this.#sendControl(encodeRstStream(id, ErrorCode.REFUSED_STREAM));
      return;
    }
    const s = new Http2Stream(id, this.#core, this.#peerStreamWindow, this.#recvStreamWindow);
    this.#streams.set(id, s);
    s.onHeaders(fields, endStream);
    const w = this.#acceptWaiters.shift();
    if (w) w(s);
    else this.#backlog.push(s);
  }

  #onSettings(settings: [number, number][]): void {
    for (const [id, value] of settings) {
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) {
          throw new Http2Error("INITIAL_WINDOW_SIZE over 2^31-1", ErrorCode.FLOW_CONTROL_ERROR);
        }
        const delta = value - this.#peerStreamWindow;
        this.#peerStreamWindow = value;
        for (const s of this.#streams.values()) s.addSendWindow(delta);
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME || value > 0xffffff) throw new Http2Error(`MAX_FRAME_SIZE ${value}`);
        this.#peerMaxFrame = value;
      }
    }
    this.#sendControl(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
  }

  #onWindowUpdate(id: number, increment: number): void {
    if (increment === 0) throw new Http2Error("WINDOW_UPDATE of 0");
    if (id !== 0) return this.#streams.get(id)?.addSendWindow(increment);
    this.#connSendWindow += increment;
    if (this.#connSendWindow > MAX_WINDOW) {
      throw new Http2Error("connection window over 2^31-1", ErrorCode.FLOW_CONTROL_ERROR);
    }
    for (const w of this.#connWindowWaiters.splice(0)) w();
  }

  #finish(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#closeTimer);
    clearInterval(this.#pingTimer);
    this.#error = err;
    this.#reader.cancel();
    this.#writer?.abort(err).catch(() => {});
    this.#conn.close();
    const reason = new Http2SessionClosed(err);
    for (const s of this.#streams.values()) s.onReset(reason);
    this.#streams.clear();
    for (const s of this.#backlog) s.onReset(reason);
    this.#backlog = [];
    for (const w of this.#acceptWaiters.splice(0)) w(null);
    for (const w of this.#connWindowWaiters.splice(0)) w();
    if (err) {
      const level = err instanceof Http2Error ? "warn" : "debug";
      this.#opts.log?.log(level, `http2 session ended: ${errorMessage(err)}`, { remote: this.#conn.remote });
    }
    this.#resolveDone();
  }
}
