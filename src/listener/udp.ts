/**
 * The `udp` listener: one datagram duplex per client address.
 *
 * With `keepAlive=false` (the default) a client's channel closes after the first datagram
 * sent back to it; with `keepAlive=true` it stays until idle. Idleness (nothing sent back
 * to the client) is checked every `ttl`, so an idle channel closes within two checks.
 * @module
 */
import { formatAddr, listenHost, splitHostPort } from "../core/addr.ts";
import { DatagramPeer, type DatagramPeerOwner, DatagramPeers } from "../core/datagram_peer.ts";
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

/** One client's channel on a {@link UdpListener}: a datagram peer that knows its socket address. */
class UdpClient extends DatagramPeer {
  constructor(remote: string, local: string, readonly peer: Deno.NetAddr, owner: UdpListener) {
    super(remote, local, owner, owner.opts.readQueueSize);
  }
}

/** A UDP listener presenting each client address as its own datagram duplex. */
export class UdpListener implements Listener, DatagramPeerOwner {
  readonly opts: UdpListenerOptions;
  #sock?: Deno.DatagramConn;
  readonly #sessions: DatagramPeers<UdpClient>;
  #closed = false;

  constructor(readonly configuredAddr: string, opts: Partial<UdpListenerOptions> = {}) {
    this.opts = { ...udpListenerOptions.parse({}, ""), ...opts };
    this.#sessions = new DatagramPeers(this.opts.backlog, this.opts.ttl);
  }

  listen(): Promise<void> {
    this.#sock = listenUDP(this.configuredAddr);
    this.#receiveLoop();
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
      // Undefined when nobody is accepting and the backlog is full: shed load.
      const s = this.#sessions.get(key, () => new UdpClient(key, this.addr, from as Deno.NetAddr, this));
      s?.push(data.slice());
    }
  }

  /** @internal Sends a datagram to a client; without keepAlive its channel ends with this answer. */
  async send(data: Uint8Array, client: UdpClient): Promise<void> {
    if (this.#closed) return;
    await this.#sock!.send(data, client.peer);
    if (!this.opts.keepAlive) client.close();
  }

  /** @internal Drops a closed session. */
  forget(s: DatagramPeer): void {
    this.#sessions.forget(s);
  }

  accept(): Promise<Duplex | null> {
    return this.#sessions.next();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sessions.close();
    try {
      this.#sock?.close();
    } catch {
      // already closed
    }
  }
}
