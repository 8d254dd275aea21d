/**
 * The `udp` listener: one datagram duplex per client address.
 *
 * With `keepAlive=false` (the default) a client's channel closes after the first datagram
 * sent back to it; with `keepAlive=true` it stays until idle. Idleness (nothing sent back
 * to the client) is checked every `ttl`, so an idle channel closes within two checks.
 * @module
 */
import { formatAddr, listenHost, splitHostPort } from "../core/addr.ts";
import type { Duplex } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { type Listener, ListenError } from "../core/types.ts";

export const udpListenerOptions = defineOptions({
  keepAlive: opt.bool(["keepAlive", "keepalive"], false),
  ttl: opt.duration(["ttl", "keepalive.ttl"], 5_000),
  readBufferSize: opt.int(["readBufferSize", "udp.bufferSize", "bufferSize"], 4096, { min: 512, max: 65536 }),
  readQueueSize: opt.int(["readQueueSize", "recvQueueSize"], 128, { min: 1, max: 65536 }),
  backlog: opt.int(["backlog"], 128, { min: 1, max: 65536 }),
});

export type UdpListenerOptions = Options<typeof udpListenerOptions.schema>;

/** Binds a UDP socket; an empty host listens on all interfaces. */
export function listenUDP(addr: string): Deno.DatagramConn {
  const { host, port } = splitHostPort(addr);
  try {
    if (host === "") {
      try {
        return Deno.listenDatagram({ hostname: "::", port, transport: "udp" });
      } catch (err) {
        if (err instanceof Deno.errors.AddrInUse) throw err;
      }
    }
    return Deno.listenDatagram({ hostname: listenHost(host), port, transport: "udp" });
  } catch (err) {
    throw new ListenError(addr, err);
  }
}

/** One client's channel on a {@link UdpListener}. */
class UdpSession implements Duplex {
  readonly datagram = true;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  /** True when nothing was sent to the client since the last idle check. */
  idle = false;

  constructor(
    readonly remote: string,
    readonly local: string,
    private readonly peer: Deno.NetAddr,
    private readonly owner: UdpListener,
  ) {
    this.readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c;
      },
      cancel: () => this.close(),
    }, { highWaterMark: owner.opts.readQueueSize });
    this.writable = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        if (this.#closed) return;
        this.idle = false;
        await owner.send(chunk, this.peer);
        if (!owner.opts.keepAlive) this.close();
      },
      close: () => this.close(),
      abort: () => this.close(),
    });
  }

  /** Queues a datagram from the client; drops it when the queue is full. */
  push(data: Uint8Array): void {
    if (this.#closed) return;
    // The queue holds readQueueSize datagrams; past that a slow consumer loses new ones.
    if ((this.#controller.desiredSize ?? 0) <= 0) return;
    this.#controller.enqueue(data);
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.owner.forget(this.remote, this);
    try {
      this.#controller.close();
    } catch {
      // already closed or errored
    }
  }
}

/** A UDP listener presenting each client address as its own datagram duplex. */
export class UdpListener implements Listener {
  readonly opts: UdpListenerOptions;
  #sock?: Deno.DatagramConn;
  #sessions = new Map<string, UdpSession>();
  #pending: UdpSession[] = [];
  #waiters: ((d: Duplex | null) => void)[] = [];
  #reaper?: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(readonly configuredAddr: string, opts: Partial<UdpListenerOptions> = {}) {
    this.opts = { ...udpListenerOptions.parse({}, ""), ...opts };
  }

  listen(): Promise<void> {
    this.#sock = listenUDP(this.configuredAddr);
    this.#receiveLoop();
    this.#reaper = setInterval(() => this.#reap(), this.opts.ttl);
    return Promise.resolve();
  }

  get addr(): string {
    return this.#sock ? formatAddr(this.#sock.addr) : this.configuredAddr;
  }

  /** Live client channels (for tests and stats). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  async #receiveLoop(): Promise<void> {
    const buf = new Uint8Array(this.opts.readBufferSize);
    const sock = this.#sock!;
    while (!this.#closed) {
      let data: Uint8Array, from: Deno.Addr;
      try {
        [data, from] = await sock.receive(buf);
      } catch {
        if (this.#closed) break;
        continue; // e.g. ICMP port unreachable reported on the socket: keep serving
      }
      const key = formatAddr(from);
      let s = this.#sessions.get(key);
      if (!s) {
        if (this.#pending.length >= this.opts.backlog) continue; // nobody accepting: shed load
        s = new UdpSession(key, this.addr, from as Deno.NetAddr, this);
        this.#sessions.set(key, s);
        this.#deliver(s);
      }
      s.push(data.slice());
    }
  }

  #deliver(s: UdpSession): void {
    const w = this.#waiters.shift();
    if (w) w(s);
    else this.#pending.push(s);
  }

  #reap(): void {
    for (const s of [...this.#sessions.values()]) {
      if (s.idle) s.close();
      else s.idle = true;
    }
  }

  /** @internal Sends a datagram to a client. */
  async send(data: Uint8Array, to: Deno.NetAddr): Promise<void> {
    if (this.#closed) return;
    await this.#sock!.send(data, to);
  }

  /** @internal Drops a closed session. */
  forget(key: string, s: UdpSession): void {
    if (this.#sessions.get(key) === s) this.#sessions.delete(key);
  }

  accept(): Promise<Duplex | null> {
    if (this.#closed) return Promise.resolve(null);
    const s = this.#pending.shift();
    if (s) return Promise.resolve(s);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#reaper);
    for (const s of [...this.#sessions.values()]) s.close();
    for (const w of this.#waiters.splice(0)) w(null);
    try {
      this.#sock?.close();
    } catch {
      // already closed
    }
  }
}
