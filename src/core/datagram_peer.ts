/**
 * One remote UDP peer of a listener that demultiplexes datagrams by source address (the
 * `udp` listener, a UDP BIND through a relay or SOCKS5 node): a datagram duplex whose
 * inbound side is a bounded queue the owner fills, whose outbound side is the owner's send,
 * and which an idle check closes when nothing was sent to the peer since the last check.
 * @module
 */
import type { Duplex } from "./duplex.ts";

/** What a {@link DatagramPeer} needs from the listener that owns it. */
export interface DatagramPeerOwner {
  /** Sends one datagram to `peer`. */
  send(chunk: Uint8Array, peer: DatagramPeer): Promise<void>;
  /** The peer closed: drop it from the owner's table. */
  forget(peer: DatagramPeer): void;
}

/** A remote peer's datagrams, one per chunk. */
export class DatagramPeer implements Duplex {
  readonly datagram = true;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  /** True when nothing was sent to the peer since the last idle check (see {@link closeIdle}). */
  idle = false;

  /** @param queueSize inbound datagrams held for a slow reader before newer ones are dropped */
  constructor(
    readonly remote: string,
    readonly local: string,
    readonly owner: DatagramPeerOwner,
    queueSize: number,
  ) {
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c;
      },
      cancel: () => this.close(),
    }, { highWaterMark: queueSize });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (this.#closed) return;
        this.idle = false;
        return owner.send(chunk, this);
      },
      close: () => this.close(),
      abort: () => this.close(),
    });
  }

  /** Queues a datagram from the peer; false (dropped) when the queue is full or the peer closed. */
  push(data: Uint8Array): boolean {
    if (this.#closed || (this.#controller.desiredSize ?? 0) <= 0) return false;
    this.#controller.enqueue(data);
    return true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.owner.forget(this);
    try {
      this.#controller.close();
    } catch {
      // already closed or errored
    }
  }
}

/**
 * One idle check over `peers`: closes those still idle since the previous check and marks
 * the rest idle, so a peer closes within two checks of its last send.
 */
export function closeIdle(peers: Iterable<DatagramPeer>): void {
  for (const p of [...peers]) {
    if (p.idle) p.close();
    else p.idle = true;
  }
}
