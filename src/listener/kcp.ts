/**
 * The `kcp` listener: one UDP socket, one KCP session per client address, snappy and smux
 * on each; every smux stream is handed out as a connection (a handler runs on each).
 *
 * Datagrams that fail the CRC (garbage, wrong key) are dropped and counted before any state
 * is made. A session is created only by a valid data packet, which anyone can forge under
 * gost's default empty key, so half-open sessions (no stream opened yet) are bounded without
 * ever turning a newcomer away: over `kcp.backlogPerIP` from one address, that address's
 * oldest half-open session is closed; over `backlog` in all, the oldest of the address that
 * holds the most. Half-open sessions are reaped after `handshakeTimeout`; any session silent
 * for `kcp.idleTimeout` is closed (smux keepalives keep live ones busy).
 * @module
 */
import { formatAddr } from "../core/addr.ts";
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { heldBack, type Logger, Throttle } from "../core/log.ts";
import type { Listener } from "../core/types.ts";
import { currentMs } from "../protocol/kcp/arq.ts";
import { type KcpConfig, type KcpOptions, kcpOptions, resolveKcpConfig } from "../protocol/kcp/config.ts";
import { openPacket } from "../protocol/kcp/crypt.ts";
import { sessionConfigOf, smuxOver } from "../protocol/kcp/mux.ts";
import { conversationOf, KcpSession, type SessionConfig } from "../protocol/kcp/session.ts";
import { RECEIVE_ROOM, Slab } from "../protocol/kcp/slab.ts";
import { enlargeSocketBuffers } from "../protocol/kcp/sockbuf.ts";
import { type SyncSender, syncSender } from "../protocol/kcp/udp_send.ts";
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
  /** The peer's IP address (half-open sessions are bounded per address). */
  ip: string;
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
  /** New sessions refused: the listener serves its maximum of sessions. */
  refused: number;
  /** Half-open sessions closed to make room for newer ones. */
  evicted: number;
  sessionsOpened: number;
}

/** A KCP listener. */
export class KcpListener implements Listener {
  readonly stats: KcpListenerStats = { dropped: 0, refused: 0, evicted: 0, sessionsOpened: 0 };
  readonly #cfg: KcpConfig;
  readonly #opts: KcpOptions;
  readonly #log?: Logger;
  #session!: SessionConfig;
  #sock?: Deno.DatagramConn;
  /** Sends datagrams synchronously where libc may be used, else null (see udp_send.ts). */
  #sync: SyncSender | null = null;
  /** Copies of the datagrams sent through Deno's async send (sessions lend theirs). */
  readonly #sendSlab = new Slab();
  readonly #sessions = new Map<string, Entry>();
  /** Half-open sessions by peer IP, each address's oldest first. */
  readonly #halfOpen = new Map<string, Set<Entry>>();
  #embryonic = 0;
  /** Refusals and evictions are logged at most this often. */
  readonly #shedLog = new Throttle(5_000);
  readonly #pending: Duplex[] = [];
  readonly #waiters: ((d: Duplex | null) => void)[] = [];
  #reaper?: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(readonly configuredAddr: string, cfg: KcpConfig, opts: KcpOptions, log?: Logger) {
    this.#cfg = cfg;
    this.#opts = opts;
    this.#log = log;
  }

  async listen(): Promise<void> {
    this.#session = await sessionConfigOf(this.#cfg);
    this.#sock = listenUDP(this.configuredAddr);
    const sockbuf = enlargeSocketBuffers(this.#sock);
    this.#sync = syncSender(this.#sock);
    this.#log?.debug(
      `kcp: socket receive buffer ${sockbuf > 0 ? `${sockbuf} bytes` : "left at the default"}`,
    );
    this.#receiveLoop();
    this.#reaper = setInterval(() => this.#reap(), REAP_EVERY);
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
    // One buffer for every datagram: sessions copy what they keep into buffers they reuse.
    const room = new Uint8Array(RECEIVE_ROOM);
    const crypt = this.#session.crypt;
    let lastFrom: Deno.NetAddr | null = null, lastKey = "";
    while (!this.#closed) {
      let data: Uint8Array, from: Deno.Addr;
      try {
        [data, from] = await sock.receive(room);
      } catch (err) {
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
    const ip = peer.hostname;
    if (this.#sessions.size >= MAX_SESSIONS) {
      // Established sessions are never closed for a newcomer; half-open ones may be.
      if (!this.#evict(this.#mostHalfOpen(), `${MAX_SESSIONS} sessions`)) {
        this.stats.refused++;
        this.#shed(`kcp: ${MAX_SESSIONS} sessions served: refused a new one from ${key}`);
        return undefined;
      }
    } else if ((this.#halfOpen.get(ip)?.size ?? 0) >= this.#opts.backlogPerIP) {
      this.#evict(ip, "kcp.backlogPerIP");
    } else if (this.#embryonic >= this.#opts.backlog) {
      this.#evict(this.#mostHalfOpen(), "backlog");
    }
    const sock = this.#sock!, sync = this.#sync, slab = this.#sendSlab;
    const sa = sync?.address(peer) ?? null;
    const send = (pkt: Uint8Array) => {
      if (sa && sync!.send(pkt, sa)) return;
      sock.send(slab.copy(pkt), peer).catch(ignore);
    };
    const kcp = new KcpSession(conv, this.#session, send, this.addr, key);
    const smux = smuxOver(kcp, this.#cfg, false, this.#log);
    const e: Entry = { key, ip, kcp, smux, created: currentMs(), streams: 0 };
    this.#sessions.set(key, e);
    this.#halfOpenAdd(e);
    this.stats.sessionsOpened++;
    kcp.onClose(() => {
      this.#log?.debug(`kcp: session ${conv} from ${key} closed: ${kcp.summary()}`);
      if (this.#sessions.get(key) === e) this.#sessions.delete(key);
      this.#halfOpenDelete(e);
      smux.close();
    });
    smux.done.then(() => kcp.close());
    this.#acceptStreams(e);
    this.#log?.debug(`kcp: session ${conv} from ${key}`);
    return e;
  }

  #halfOpenAdd(e: Entry): void {
    let set = this.#halfOpen.get(e.ip);
    if (!set) this.#halfOpen.set(e.ip, set = new Set());
    set.add(e);
    this.#embryonic++;
  }

  /** Marks `e` as no longer half-open (it opened a stream, or closed). */
  #halfOpenDelete(e: Entry): void {
    const set = this.#halfOpen.get(e.ip);
    if (!set?.delete(e)) return;
    this.#embryonic--;
    if (set.size === 0) this.#halfOpen.delete(e.ip);
  }

  /** The address holding the most half-open sessions (a flood's source, not its victims). */
  #mostHalfOpen(): string | undefined {
    let most: string | undefined, n = 0;
    for (const [ip, set] of this.#halfOpen) {
      if (set.size > n) most = ip, n = set.size;
    }
    return most;
  }

  /** Closes the oldest half-open session from `ip`; false when there is none. */
  #evict(ip: string | undefined, bound: string): boolean {
    const oldest = ip === undefined ? undefined : this.#halfOpen.get(ip)?.values().next().value;
    if (!oldest) return false;
    this.stats.evicted++;
    this.#shed(`kcp: half-open sessions over ${bound}: closed the oldest, from ${oldest.key}`);
    oldest.kcp.close();
    return true;
  }

  #shed(msg: string): void {
    const held = this.#shedLog.pass();
    if (held >= 0) this.#log?.warn(msg + heldBack(held));
  }

  async #acceptStreams(e: Entry): Promise<void> {
    for (;;) {
      const stream = await e.smux.accept();
      if (!stream) return;
      if (e.streams++ === 0) this.#halfOpenDelete(e);
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
    this.#sync?.close();
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
