/**
 * One remote UDP peer of a listener that demultiplexes datagrams by source address (the
 * `udp` listener, a UDP BIND through a relay or SOCKS5 node): a datagram duplex whose
 * inbound side is a bounded queue the owner fills, whose outbound side is the owner's send,
 * and which an idle check closes when nothing was sent to the peer since the last check.
 * @module
 */
import { AcceptQueue } from "./accept_queue.ts";
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

/**
 * The peers of a demultiplexing listener by remote address: new ones are handed to
 * `accept()` through a bounded {@link AcceptQueue}, and an idle check every `ttl` ms (running
 * once there is a peer) closes those nothing was sent to since the previous check.
 */
export class DatagramPeers<P extends DatagramPeer> {
  readonly #peers = new Map<string, P>();
  readonly #accepted: AcceptQueue<P>;
  #idleCheck?: ReturnType<typeof setInterval>;

  constructor(backlog: number, readonly ttl: number) {
    this.#accepted = new AcceptQueue(backlog);
  }

  /** Live peers. */
  get size(): number {
    return this.#peers.size;
  }

  /**
   * The peer at `remote`, or a new one from `create` queued for {@link next}; undefined (and
   * `create` not called) when nobody is accepting and the backlog is full, or after close.
   */
  get(remote: string, create: () => P): P | undefined {
    let p = this.#peers.get(remote);
    if (p) return p;
    if (this.#accepted.full) return undefined;
    p = create();
    this.#peers.set(remote, p);
    this.#accepted.offer(p);
    this.#idleCheck ??= setInterval(() => closeIdle(this.#peers.values()), this.ttl);
    return p;
  }

  /** Drops a closed peer (its {@link DatagramPeerOwner.forget}). */
  forget(p: DatagramPeer): void {
    if (this.#peers.get(p.remote) === p) this.#peers.delete(p.remote);
  }

  /** The next new peer, or null once closed. */
  next(): Promise<P | null> {
    return this.#accepted.next();
  }

  /** Stops the idle check, closes every peer and wakes waiting takers with null. */
  close(): void {
    clearInterval(this.#idleCheck);
    for (const p of [...this.#peers.values()]) p.close();
    this.#accepted.close();
  }
}
