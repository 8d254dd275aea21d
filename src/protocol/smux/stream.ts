/**
 * One smux stream as a {@link Duplex}: its receive queue and version 2 window, FIN in both
 * directions, and writes cut to the session's frame size. The session (session.ts) owns the
 * connection; a stream reaches it only through {@link SessionCore}.
 * @module
 */
import { type DirectIO, type Duplex, pullReadable, sinkWritable } from "../../core/duplex.ts";
import { INITIAL_PEER_WINDOW, SmuxClosedError, type SmuxConfig } from "./config.ts";
import { Cmd, encodeFrame, encodeUpd, SmuxProtocolError } from "./frame.ts";
/** What a stream needs from its session. */
export interface SessionCore {
  readonly cfg: SmuxConfig;
  readonly local: string;
  readonly remote: string;
  send(frame: Uint8Array): Promise<void>;
  /** PSH frames for `data`, which must stay unchanged until the promise resolves. */
  sendData(streamId: number, data: Uint8Array): Promise<void>;
  sendControl(frame: Uint8Array): void;
  returnTokens(n: number): void;
  forget(stream: SmuxStream): void;
}

/** One smux stream, seen as a {@link Duplex}. */
export class SmuxStream implements Duplex {
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
    this.#readable ??= pullReadable(() => this.#nextChunk(Infinity), () => this.close());
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= sinkWritable(
      (chunk) => this.#write(chunk),
      () => this.#closeWrite(),
      () => this.close(),
    );
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
      return this.#s.sendData(this.id, data);
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
        await this.#s.sendData(this.id, data.subarray(off, off + n));
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
