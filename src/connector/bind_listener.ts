/**
 * Listeners a connector's `bind()` returns (client side of relay/SOCKS5 BIND): inbound TCP
 * connections as streams of an smux session the server opens, and inbound UDP peers as
 * datagram duplexes demultiplexed from one framed stream.
 * @module
 */
import type { BufferedReader } from "../core/buffered_reader.ts";
import { BufferedReader as Reader } from "../core/buffered_reader.ts";
import { DatagramPeer, type DatagramPeerOwner, DatagramPeers } from "../core/datagram_peer.ts";
import type { DirectIO, Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { writeHalf } from "../core/direct_io.ts";
import { encodeSocksAddr } from "../core/socks_addr.ts";
import { deadline } from "../core/timeout.ts";
import type { BindOptions, DialContext, Listener } from "../core/types.ts";
import { type MuxOptions, smuxOptionsOf } from "../protocol/smux/options.ts";
import { SmuxSession } from "../protocol/smux/session.ts";
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

/**
 * The address a BIND asks the node for: `:port` is that port on every IPv4 interface, an
 * empty address any port.
 */
export function bindRequestAddr(addr: string): string {
  return addr.startsWith(":") ? `0.0.0.0${addr}` : addr || "0.0.0.0:0";
}

/**
 * A TCP BIND's listener once the node has bound: `conn` turns into an smux session in which
 * the node opens one stream per inbound connection (this side is the smux server), each
 * starting with a header that `readHeader` decodes into the peer's address.
 */
export function muxBindListener(
  conn: Duplex,
  opts: MuxOptions,
  bound: string,
  readHeader: (r: BufferedReader) => Promise<string>,
  ctx: DialContext,
  timeout: number,
): MuxBindListener {
  const session = new SmuxSession(conn, { ...smuxOptionsOf(opts, false), log: ctx.log });
  return new MuxBindListener(session, bound, readHeader, ctx, timeout);
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

/** One remote UDP peer of a {@link UdpBindListener}: its SOCKS address encoded once. */
class UdpBindPeer extends DatagramPeer {
  readonly socksAddr: Uint8Array;
  constructor(remote: string, local: string, owner: UdpBindListener, queueSize: number) {
    super(remote, local, owner, queueSize);
    this.socksAddr = encodeSocksAddr(remote);
  }
}

/** Inbound UDP peers of a UDP BIND, carried in SOCKS5-style stream frames over `conn`. */
export class UdpBindListener implements Listener, DatagramPeerOwner {
  readonly #peers: DatagramPeers<UdpBindPeer>;
  #write: (b: Uint8Array) => Promise<void>;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #opts: Required<BindOptions>;

  constructor(readonly conn: Duplex, reader: BufferedReader, readonly addr: string, opts: BindOptions = {}) {
    this.#opts = {
      backlog: opts.backlog ?? 128,
      ttl: opts.ttl ?? 5_000,
      readBufferSize: opts.readBufferSize ?? 4096,
      readQueueSize: opts.readQueueSize ?? 128,
    };
    this.#peers = new DatagramPeers(this.#opts.backlog, this.#opts.ttl);
    const out = writeHalf(conn);
    this.#write = (b) => out.write(b);
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
        const p = this.#peers.get(
          f.addr,
          () => new UdpBindPeer(f.addr, this.addr, this, this.#opts.readQueueSize),
        );
        if (!p) continue; // nobody accepting and the backlog full
        const payload = f.payload.length > this.#opts.readBufferSize
          ? f.payload.subarray(0, this.#opts.readBufferSize)
          : f.payload;
        // Traffic either way keeps a bound peer alive.
        if (p.push(payload)) p.idle = false;
      }
    } catch {
      // the bind stream broke: the listener ends
    }
    this.close();
  }

  /** @internal Sends one datagram to `peer`, framed with its address; sends are kept in order. */
  send(chunk: Uint8Array, peer: UdpBindPeer): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const frame = encodeStreamFrame(peer.socksAddr, chunk);
    this.#queue = this.#queue.then(() => this.#write(frame)).catch(() => this.close());
    return this.#queue;
  }

  /** @internal */
  forget(p: DatagramPeer): void {
    this.#peers.forget(p);
  }

  accept(): Promise<Duplex | null> {
    return this.#peers.next();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#peers.close();
    this.conn.close();
  }
}
