/**
 * Listeners a connector's `bind()` returns (client side of relay/SOCKS5 BIND): inbound TCP
 * connections as streams of an smux session the server opens, and inbound UDP peers as
 * datagram duplexes demultiplexed from one framed stream.
 * @module
 */
import type { BufferedReader } from "../core/buffered_reader.ts";
import { BufferedReader as Reader } from "../core/buffered_reader.ts";
import type { DirectIO, Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { encodeSocksAddr } from "../core/socks_addr.ts";
import { deadline } from "../core/timeout.ts";
import type { BindOptions, DialContext, Listener } from "../core/types.ts";
import type { SmuxSession } from "../protocol/smux/session.ts";
import { encodeStreamFrame, readStreamFrame } from "../protocol/socks5/udp.ts";

/** A duplex with its remote address replaced (the inbound peer, not the mux stream). */
class PeerDuplex implements Duplex {
  constructor(readonly inner: Duplex, readonly remote: string, readonly local: string) {}
  get readable(): ReadableStream<Uint8Array> {
    return this.inner.readable;
  }
  get writable(): WritableStream<Uint8Array> {
    return this.inner.writable;
  }
  get direct(): DirectIO | undefined {
    return this.inner.direct;
  }
  close(): void {
    this.inner.close();
  }
}

/** Inbound connections as streams of a mux session, each starting with a header naming the peer. */
export class MuxBindListener implements Listener {
  constructor(
    readonly session: SmuxSession,
    readonly addr: string,
    readonly readHeader: ((r: BufferedReader) => Promise<string>) | null,
    readonly ctx: DialContext,
    readonly timeout = 15_000,
  ) {}

  listen(): Promise<void> {
    return Promise.resolve();
  }

  async accept(): Promise<Duplex | null> {
    for (;;) {
      const s = await this.session.accept();
      if (!s) return null;
      if (!this.readHeader) return new PeerDuplex(s, "", this.addr);
      try {
        const r = new Reader(s);
        const peer = await deadline(this.readHeader(r), this.timeout, "bind stream header", () => s.close());
        return new PeerDuplex(r.release(), peer, this.addr);
      } catch (err) {
        this.ctx.log.debug(`bind ${this.addr}: bad inbound stream: ${errorMessage(err)}`);
        s.close();
      }
    }
  }

  close(): void {
    this.session.close();
  }
}

/** One remote UDP peer of a {@link UdpBindListener}. */
class UdpPeer implements Duplex {
  readonly datagram = true;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  idle = false;

  constructor(readonly remote: string, readonly local: string, owner: UdpBindListener, queue: number) {
    const addr = encodeSocksAddr(remote);
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c;
      },
      cancel: () => this.close(),
    }, { highWaterMark: queue });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        this.idle = false;
        return owner.send(encodeStreamFrame(addr, chunk));
      },
      close: () => this.close(),
      abort: () => this.close(),
    });
    this.owner = owner;
  }
  readonly owner: UdpBindListener;

  push(data: Uint8Array): void {
    if (this.#closed || (this.#controller.desiredSize ?? 0) <= 0) return;
    this.idle = false;
    this.#controller.enqueue(data);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.owner.forget(this);
    try {
      this.#controller.close();
    } catch {
      // already closed
    }
  }
}

/** Inbound UDP peers of a UDP BIND, carried in SOCKS5-style stream frames over `conn`. */
export class UdpBindListener implements Listener {
  readonly #peers = new Map<string, UdpPeer>();
  #pending: UdpPeer[] = [];
  #waiters: ((d: Duplex | null) => void)[] = [];
  #write: (b: Uint8Array) => Promise<void>;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  #reaper: ReturnType<typeof setInterval>;
  readonly #opts: Required<BindOptions>;

  constructor(readonly conn: Duplex, reader: BufferedReader, readonly addr: string, opts: BindOptions = {}) {
    this.#opts = {
      backlog: opts.backlog ?? 128,
      ttl: opts.ttl ?? 5_000,
      readBufferSize: opts.readBufferSize ?? 4096,
      readQueueSize: opts.readQueueSize ?? 128,
    };
    if (conn.direct) {
      const io = conn.direct;
      this.#write = (b) => io.write(b);
    } else {
      const w = conn.writable.getWriter();
      this.#write = (b) => w.write(b);
    }
    this.#reaper = setInterval(() => {
      for (const p of [...this.#peers.values()]) {
        if (p.idle) p.close();
        else p.idle = true;
      }
    }, this.#opts.ttl);
    this.#readLoop(reader);
  }

  listen(): Promise<void> {
    return Promise.resolve();
  }

  async #readLoop(reader: BufferedReader): Promise<void> {
    try {
      for (;;) {
        const f = await readStreamFrame(reader);
        if (!f) break;
        let p = this.#peers.get(f.addr);
        if (!p) {
          if (this.#pending.length >= this.#opts.backlog) continue;
          p = new UdpPeer(f.addr, this.addr, this, this.#opts.readQueueSize);
          this.#peers.set(f.addr, p);
          const w = this.#waiters.shift();
          if (w) w(p);
          else this.#pending.push(p);
        }
        p.push(
          f.payload.length > this.#opts.readBufferSize
            ? f.payload.subarray(0, this.#opts.readBufferSize)
            : f.payload,
        );
      }
    } catch {
      // the bind stream broke: the listener ends
    }
    this.close();
  }

  /** @internal */
  send(frame: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#queue = this.#queue.then(() => this.#write(frame)).catch(() => this.close());
    return this.#queue;
  }

  /** @internal */
  forget(p: UdpPeer): void {
    if (this.#peers.get(p.remote) === p) this.#peers.delete(p.remote);
  }

  accept(): Promise<Duplex | null> {
    if (this.#closed) return Promise.resolve(null);
    const p = this.#pending.shift();
    if (p) return Promise.resolve(p);
    return new Promise((r) => this.#waiters.push(r));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#reaper);
    for (const p of [...this.#peers.values()]) p.close();
    for (const w of this.#waiters.splice(0)) w(null);
    this.conn.close();
  }
}
