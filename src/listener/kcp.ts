/**
 * The `kcp` listener: one UDP socket, one KCP session per client address, snappy and smux
 * on each; every smux stream is handed out as a connection (a handler runs on each).
 *
 * Datagrams that fail the CRC (garbage, wrong key) are dropped and counted before any state
 * is made. A session is created only by a valid data packet, and sessions that have not
 * opened a stream yet are limited to `backlog` and reaped after `handshakeTimeout`; any
 * session silent for `kcp.idleTimeout` is closed (smux keepalives keep live ones busy).
 * @module
 */
import { formatAddr } from "../core/addr.ts";
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { Listener } from "../core/types.ts";
import { currentMs } from "../protocol/kcp/arq.ts";
import { type KcpConfig, type KcpOptions, kcpOptions, resolveKcpConfig } from "../protocol/kcp/config.ts";
import { openPacket } from "../protocol/kcp/crypt.ts";
import { sessionConfigOf, smuxOver } from "../protocol/kcp/mux.ts";
import { conversationOf, KcpSession, type SessionConfig } from "../protocol/kcp/session.ts";
import { RECEIVE_ROOM, Slab } from "../protocol/kcp/slab.ts";
import { enlargeSocketBuffers } from "../protocol/kcp/sockbuf.ts";
import type { SmuxSession } from "../protocol/smux/session.ts";
import type { ListenerFactory } from "./registry.ts";
import { listenUDP } from "./udp.ts";

/** Sessions one listener serves at most. */
const MAX_SESSIONS = 4096;
/** How often idle and stalled sessions are looked for. */
const REAP_EVERY = 1000;

/** A send error on UDP is the peer's problem to notice (by not acknowledging). */
const ignore = () => {};

interface Entry {
  key: string;
  kcp: KcpSession;
  smux: SmuxSession;
  created: number;
  /** Streams accepted so far (0 = still in its handshake). */
  streams: number;
}

/** Counters for logs and tests. */
export interface KcpListenerStats {
  /** Datagrams dropped: too short, failed CRC/decryption, or unusable. */
  dropped: number;
  /** New sessions refused because of the limits. */
  refused: number;
  sessionsOpened: number;
}

/** A KCP listener. */
export class KcpListener implements Listener {
  readonly stats: KcpListenerStats = { dropped: 0, refused: 0, sessionsOpened: 0 };
  readonly #cfg: KcpConfig;
  readonly #opts: KcpOptions;
  readonly #log?: Logger;
  #session!: SessionConfig;
  #sock?: Deno.DatagramConn;
  readonly #sessions = new Map<string, Entry>();
  #embryonic = 0;
  readonly #pending: Duplex[] = [];
  readonly #waiters: ((d: Duplex | null) => void)[] = [];
  #reaper?: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(readonly configuredAddr: string, cfg: KcpConfig, opts: KcpOptions, log?: Logger) {
    this.#cfg = cfg;
    this.#opts = opts;
    this.#log = log;
  }

  listen(): Promise<void> {
    this.#session = sessionConfigOf(this.#cfg);
    this.#sock = listenUDP(this.configuredAddr);
    const sockbuf = enlargeSocketBuffers(this.#sock);
    this.#log?.debug(
      `kcp: socket receive buffer ${sockbuf > 0 ? `${sockbuf} bytes` : "left at the default"}`,
    );
    this.#receiveLoop();
    this.#reaper = setInterval(() => this.#reap(), REAP_EVERY);
    return Promise.resolve();
  }

  get addr(): string {
    return this.#sock ? formatAddr(this.#sock.addr) : this.configuredAddr;
  }

  /** Live KCP sessions. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** The live sessions (for stats and tests). */
  sessions(): KcpSession[] {
    return [...this.#sessions.values()].map((e) => e.kcp);
  }

  /** Streams waiting for `accept()`. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  async #receiveLoop(): Promise<void> {
    const sock = this.#sock!;
    // Every datagram lands in fresh space: sessions keep views of it rather than copies.
    const slab = new Slab();
    const crypt = this.#session.crypt;
    let lastFrom: Deno.NetAddr | null = null, lastKey = "";
    while (!this.#closed) {
      let data: Uint8Array, from: Deno.Addr;
      try {
        [data, from] = await sock.receive(slab.reserve(RECEIVE_ROOM));
        slab.commit(data.length);
      } catch (err) {
        slab.commit(0);
        if (this.#closed) break;
        this.#log?.debug(`kcp: receive: ${errorMessage(err)}`);
        continue;
      }
      const body = crypt ? openPacket(crypt, data) : data;
      if (!body) {
        this.stats.dropped++;
        continue;
      }
      const peer = from as Deno.NetAddr;
      if (!lastFrom || peer.port !== lastFrom.port || peer.hostname !== lastFrom.hostname) {
        lastFrom = peer;
        lastKey = formatAddr(peer);
      }
      const key = lastKey;
      let e = this.#sessions.get(key);
      const id = conversationOf(body);
      if (e && id && id.conv !== e.kcp.arq.conv) {
        // A new conversation from the same address replaces the old one (peer restarted).
        if (id.sn !== 0) {
          this.stats.dropped++;
          continue;
        }
        e.kcp.close();
        e = undefined;
      }
      if (!e) {
        if (!id) {
          this.stats.dropped++;
          continue;
        }
        e = this.#open(key, from as Deno.NetAddr, id.conv);
        if (!e) continue;
      }
      try {
        if (!e.kcp.inputBody(body)) this.stats.dropped++;
      } catch (err) {
        // A bug on one session's input must not stop the socket serving the others.
        this.#log?.error(`kcp: session from ${key}: ${errorMessage(err)}`);
        e.kcp.close(err as Error);
      }
    }
  }

  #open(key: string, peer: Deno.NetAddr, conv: number): Entry | undefined {
    if (this.#sessions.size >= MAX_SESSIONS || this.#embryonic >= this.#opts.backlog) {
      this.stats.refused++;
      return undefined;
    }
    const sock = this.#sock!;
    const send = (pkt: Uint8Array) => {
      sock.send(pkt, peer).catch(ignore);
    };
    const kcp = new KcpSession(conv, this.#session, send, this.addr, key);
    const smux = smuxOver(kcp, this.#cfg, false, this.#log);
    const e: Entry = { key, kcp, smux, created: currentMs(), streams: 0 };
    this.#sessions.set(key, e);
    this.#embryonic++;
    this.stats.sessionsOpened++;
    kcp.onClose(() => {
      this.#log?.debug(`kcp: session ${conv} from ${key} closed: ${kcp.summary()}`);
      if (this.#sessions.get(key) === e) this.#sessions.delete(key);
      if (e.streams === 0) this.#embryonic--;
      smux.close();
    });
    smux.done.then(() => kcp.close());
    this.#acceptStreams(e);
    this.#log?.debug(`kcp: session ${conv} from ${key}`);
    return e;
  }

  async #acceptStreams(e: Entry): Promise<void> {
    for (;;) {
      const stream = await e.smux.accept();
      if (!stream) return;
      if (e.streams++ === 0) this.#embryonic--;
      const w = this.#waiters.shift();
      if (w) w(stream);
      else if (this.#pending.length < this.#opts.backlog) this.#pending.push(stream);
      else stream.close(); // nobody accepting: shed load rather than queue without bound
    }
  }

  #reap(): void {
    const now = currentMs();
    for (const e of [...this.#sessions.values()]) {
      const idle = now - e.kcp.lastInput;
      if (idle > this.#opts.idleTimeout) {
        this.#log?.debug(`kcp: session from ${e.key} idle for ${idle} ms, closing`);
        e.kcp.close();
      } else if (e.streams === 0 && now - e.created > this.#opts.handshakeTimeout) {
        this.#log?.debug(`kcp: session from ${e.key} opened no stream, closing`);
        e.kcp.close();
      }
    }
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
    for (const e of [...this.#sessions.values()]) e.kcp.close();
    for (const s of this.#pending.splice(0)) s.close();
    for (const w of this.#waiters.splice(0)) w(null);
    try {
      this.#sock?.close();
    } catch {
      // already closed
    }
  }
}

/** The `kcp` listener factory. */
export const kcpListener: ListenerFactory = {
  options: kcpOptions,
  create: (init, opts) =>
    new KcpListener(
      init.addr,
      resolveKcpConfig(init.metadata, opts, `${init.path}.metadata`),
      opts,
      init.log,
    ),
};
