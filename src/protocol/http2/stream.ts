/**
 * One HTTP/2 stream as a {@link Duplex}: DATA payloads in, DATA frames out within the peer's
 * flow-control windows. `writable.close()` (or `direct.closeWrite()`) ends our side with
 * END_STREAM; `close()` resets the stream (RST_STREAM CANCEL) unless both sides already ended,
 * as Go's client does when it drops a response body.
 * @module
 */
import { type DirectIO, type Duplex, pullReadable, sinkWritable } from "../../core/duplex.ts";
import { ErrorCode, Http2Error } from "./frame.ts";
import type { HeaderField } from "./hpack.ts";

/** What a stream needs from its session. */
export interface StreamCore {
  local: string;
  remote: string;
  /** Sends DATA (may wait for connection window); resolves once queued for the wire. */
  sendData(stream: Http2Stream, data: Uint8Array, endStream: boolean): Promise<void>;
  sendHeaders(stream: Http2Stream, fields: HeaderField[], endStream: boolean): Promise<void>;
  sendReset(stream: Http2Stream, code: number): void;
  /** The application read `n` bytes of this stream: the session may return window. */
  consumed(stream: Http2Stream, n: number): void;
  forget(stream: Http2Stream): void;
}

/** A stream that was reset (by the peer or by us). */
export class StreamResetError extends Error {
  constructor(readonly id: number, readonly code: number, by: "peer" | "us") {
    super(`http2 stream ${id} reset by ${by === "peer" ? "the peer" : "us"} (code ${code})`);
    this.name = "StreamResetError";
  }
}

const EMPTY = new Uint8Array(0);

/** An HTTP/2 stream (see the module note). */
export class Http2Stream implements Duplex {
  readonly local: string;
  readonly remote: string;
  /** The peer's send window for this stream: bytes we may still send. */
  sendWindow: number;
  /** Bytes the peer may still send us before we return window. */
  recvWindow: number;
  /** Received bytes read by the application and not yet returned as WINDOW_UPDATE. */
  unacked = 0;
  readonly #core: StreamCore;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #readWaiter: (() => void) | null = null;
  #windowWaiter: (() => void) | null = null;
  #remoteEnded = false;
  #localEnded = false;
  #error?: Error;
  #closed = false;
  #responded = false;
  #headers?: HeaderField[];
  #headersWaiters: ((h: HeaderField[] | null) => void)[] = [];
  /** Trailers (a second HEADERS block), when the peer sent them. */
  trailers?: HeaderField[];
  #readable?: ReadableStream<Uint8Array>;
  #writable?: WritableStream<Uint8Array>;
  readonly #io: DirectIO;

  constructor(readonly id: number, core: StreamCore, sendWindow: number, recvWindow: number) {
    this.#core = core;
    this.local = core.local;
    this.remote = core.remote;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
    this.#io = {
      read: (buf) => this.#readInto(buf),
      write: (data) => this.write(data),
      closeWrite: () => this.end(),
    };
  }

  /** The request headers (server side) or response headers (client side), once received. */
  get headers(): HeaderField[] | undefined {
    return this.#headers;
  }

  /** Resolves with the first header block, or null if the stream ended without one. */
  waitHeaders(): Promise<HeaderField[] | null> {
    if (this.#headers) return Promise.resolve(this.#headers);
    if (this.#error || this.#remoteEnded) return Promise.resolve(null);
    return new Promise((r) => this.#headersWaiters.push(r));
  }

  /** True once we sent a header block on this stream (a request, a response). */
  get responded(): boolean {
    return this.#responded;
  }

  /** The value of header `name` in the first block. */
  header(name: string): string | undefined {
    return this.#headers?.find(([n]) => n === name)?.[1];
  }

  /** True once both sides ended or the stream was reset. */
  get done(): boolean {
    return this.#closed || !!this.#error || (this.#localEnded && this.#remoteEnded);
  }

  get direct(): DirectIO | undefined {
    return this.#readable || this.#writable ? undefined : this.#io;
  }

  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= pullReadable(() => this.#next(Infinity), () => this.close());
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= sinkWritable((chunk) => this.write(chunk), () => this.end(), () => this.close());
    return this.#writable;
  }

  /** Sends a header block (a response, or trailers with `endStream`). */
  async respond(fields: HeaderField[], endStream = false): Promise<void> {
    this.#responded = true;
    if (endStream) this.#localEnded = true;
    await this.#core.sendHeaders(this, fields, endStream);
    if (endStream && this.#remoteEnded) this.#core.forget(this);
  }

  /** Sends `data` as DATA frames, waiting for window as needed. */
  async write(data: Uint8Array): Promise<void> {
    this.#checkWritable();
    if (data.length) await this.#core.sendData(this, data, false);
  }

  /** Ends our side (END_STREAM). */
  async end(): Promise<void> {
    if (this.#localEnded || this.#error || this.#closed) return;
    this.#localEnded = true;
    await this.#core.sendData(this, EMPTY, true);
    if (this.#remoteEnded) this.#core.forget(this);
  }

  /** Resets the stream with `code` (unless it is already over) and drops what was received. */
  reset(code: number = ErrorCode.CANCEL): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#error && !(this.#localEnded && this.#remoteEnded)) this.#core.sendReset(this, code);
    this.#error ??= new StreamResetError(this.id, code, "us");
    this.#drop();
  }

  close(): void {
    this.reset(ErrorCode.CANCEL);
  }

  // ---- called by the session ----

  /** Window the peer gave us (WINDOW_UPDATE or a SETTINGS change). */
  addSendWindow(n: number): void {
    this.sendWindow += n;
    if (this.sendWindow > 0x7fffffff) {
      throw new Http2Error(`stream ${this.id} window over 2^31-1`, ErrorCode.FLOW_CONTROL_ERROR);
    }
    this.#wakeWriter();
  }

  /** Waits until the stream has send window, or throws once it cannot be written. */
  async waitSendWindow(): Promise<void> {
    while (this.sendWindow <= 0) {
      this.#checkWritable(true);
      await new Promise<void>((r) => (this.#windowWaiter = r));
    }
    this.#checkWritable(true);
  }

  onHeaders(fields: HeaderField[], endStream: boolean): void {
    if (!this.#headers) {
      this.#headers = fields;
      for (const w of this.#headersWaiters.splice(0)) w(fields);
    } else {
      this.trailers = fields;
    }
    if (endStream) this.onEnd();
  }

  /** Queues received DATA; false when the stream no longer takes data (its window is returned). */
  onData(data: Uint8Array): boolean {
    if (this.#closed || this.#remoteEnded) return false;
    if (data.length) {
      this.#queue.push(data);
      this.#queued += data.length;
    }
    this.#wakeReader();
    return true;
  }

  onEnd(): void {
    if (this.#remoteEnded) return;
    this.#remoteEnded = true;
    for (const w of this.#headersWaiters.splice(0)) w(null);
    if (this.#localEnded) this.#core.forget(this);
    this.#wakeReader();
  }

  /** The peer reset the stream, or the session ended (`err`). */
  onReset(err: Error): void {
    if (this.#error) return;
    this.#error = err;
    for (const w of this.#headersWaiters.splice(0)) w(null);
    this.#drop();
  }

  // ---- internals ----

  #checkWritable(forWindow = false): void {
    if (this.#error) throw this.#error;
    if (this.#closed || (!forWindow && this.#localEnded)) {
      throw new Error(`http2 stream ${this.id}: write after close`);
    }
  }

  async #next(max: number): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#queued > 0) {
        const c = this.#queue[0];
        let out: Uint8Array;
        if (c.length <= max) {
          out = c;
          this.#queue.shift();
        } else {
          out = c.subarray(0, max);
          this.#queue[0] = c.subarray(max);
        }
        this.#queued -= out.length;
        this.#core.consumed(this, out.length);
        return out;
      }
      if (this.#remoteEnded || this.#closed) return null;
      if (this.#error) {
        if (this.#error instanceof StreamResetError && this.#error.code === ErrorCode.NO_ERROR) return null;
        throw this.#error;
      }
      await new Promise<void>((r) => (this.#readWaiter = r));
    }
  }

  async #readInto(buf: Uint8Array): Promise<number | null> {
    const chunk = await this.#next(buf.length);
    if (!chunk) return null;
    buf.set(chunk);
    return chunk.length;
  }

  #drop(): void {
    // Unread data still counts against the connection window: give it back.
    if (this.#queued) this.#core.consumed(this, this.#queued);
    this.#queue = [];
    this.#queued = 0;
    this.#core.forget(this);
    this.#wakeReader();
    this.#wakeWriter();
  }

  #wakeReader(): void {
    const r = this.#readWaiter;
    this.#readWaiter = null;
    r?.();
  }

  #wakeWriter(): void {
    const w = this.#windowWaiter;
    this.#windowWaiter = null;
    w?.();
  }
}
