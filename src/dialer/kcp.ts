/**
 * The `kcp` dialer: one KCP session (with snappy and smux on top) per node address, shared
 * by every dial; each dial opens one smux stream on it. A session that died is replaced by
 * the next dial.
 *
 * Through a chain, the previous hop must carry UDP: its connector is asked for network
 * "udp" and returns a datagram duplex, over which `handshake` runs a KCP session of its own.
 * @module
 */
import { dialHost, formatAddr, isIPv4, isIPv6, splitHostPort } from "../core/addr.ts";
import type { Duplex } from "../core/duplex.ts";
import { DialError, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { deadline } from "../core/timeout.ts";
import type { DialContext, Dialer } from "../core/types.ts";
import { type KcpConfig, type KcpOptions, kcpOptions, resolveKcpConfig } from "../protocol/kcp/config.ts";
import { defineOptions, opt } from "../core/options.ts";

/** The kcp options, less the three only a listener uses. */
const kcpDialerOptions = defineOptions({
  ...kcpOptions.schema,
  backlog: opt.ignored("backlog", "a listener option (streams waiting to be accepted)"),
  idleTimeout: opt.ignored(["kcp.idleTimeout", "idleTimeout"], "a listener option (idle client sessions)"),
  backlogPerIP: opt.ignored(
    ["kcp.backlogPerIP", "backlogPerIP"],
    "a listener option (half-open sessions per client address)",
  ),
});
import { randomConv, sessionConfigOf, smuxOver } from "../protocol/kcp/mux.ts";
import { KcpSession, type SessionConfig } from "../protocol/kcp/session.ts";
import { RECEIVE_ROOM, Slab } from "../protocol/kcp/slab.ts";
import { enlargeSocketBuffers } from "../protocol/kcp/sockbuf.ts";
import { syncSender } from "../protocol/kcp/udp_send.ts";
import type { SmuxSession } from "../protocol/smux/session.ts";
import type { DialerFactory } from "./registry.ts";
import { bindEphemeralUDP } from "./udp.ts";

/** A send error on UDP is the peer's problem to notice (by not acknowledging). */
const ignore = () => {};

interface Shared {
  kcp: KcpSession;
  smux: SmuxSession;
}

/** Resolves a host name once (UDP sends would otherwise resolve on every datagram). */
async function resolveHost(host: string): Promise<string> {
  const h = dialHost(host);
  if (isIPv4(h) || isIPv6(h)) return h;
  if (h === "localhost") return "127.0.0.1";
  for (const type of ["A", "AAAA"] as const) {
    try {
      const ips = await Deno.resolveDns(h, type);
      if (ips.length > 0) return ips[0];
    } catch {
      // try the next record type
    }
  }
  throw new Error(`cannot resolve ${h}`);
}

/** The KCP dialer. */
export class KcpDialer implements Dialer {
  readonly network = "udp" as const;
  readonly #cfg: KcpConfig;
  readonly #opts: KcpOptions;
  readonly #log?: Logger;
  #session?: Promise<SessionConfig>;
  readonly #shared = new Map<string, Promise<Shared>>();
  /** Streams this dialer opened itself (their handshake is already done). */
  readonly #ours = new WeakSet<Duplex>();
  readonly #live = new Set<KcpSession>();

  constructor(cfg: KcpConfig, opts: KcpOptions, log?: Logger) {
    this.#cfg = cfg;
    this.#opts = opts;
    this.#log = log;
  }

  /** The live sessions (for stats and tests). */
  sessions(): KcpSession[] {
    return [...this.#live];
  }

  /** The session settings, the key derived on the first dial. */
  #sessionConfig(): Promise<SessionConfig> {
    return this.#session ??= sessionConfigOf(this.#cfg);
  }

  async dial(addr: string, _ctx: DialContext): Promise<Duplex> {
    let shared = this.#shared.get(addr);
    let s = shared ? await shared.catch(() => null) : null;
    if (!s || s.kcp.closed || s.smux.closed) {
      shared = this.#connect(addr);
      this.#shared.set(addr, shared);
      shared.catch(() => this.#shared.get(addr) === shared && this.#shared.delete(addr));
      s = await shared;
    }
    try {
      const stream = await deadline(s.smux.openStream(), this.#opts.handshakeTimeout, "kcp: open stream");
      this.#ours.add(stream);
      return stream;
    } catch (err) {
      s.kcp.close();
      throw new DialError(addr, err);
    }
  }

  /** Opens a UDP socket and a KCP session to `addr`. */
  async #connect(addr: string): Promise<Shared> {
    const { host, port } = splitHostPort(addr);
    let ip: string;
    try {
      ip = await resolveHost(host);
    } catch (err) {
      throw new DialError(addr, err);
    }
    const session = await this.#sessionConfig().catch((err) => {
      throw new DialError(addr, err);
    });
    const sock = bindEphemeralUDP();
    enlargeSocketBuffers(sock);
    const to: Deno.NetAddr = { transport: "udp", hostname: ip, port };
    // Synchronously where libc may be used (no copy), else a copy through Deno's async send.
    const sync = syncSender(sock), sa = sync?.address(to) ?? null, copies = new Slab();
    const send = (pkt: Uint8Array) => {
      if (sa && sync!.send(pkt, sa)) return;
      sock.send(copies.copy(pkt), to).catch(ignore);
    };
    const kcp = new KcpSession(randomConv(), session, send, formatAddr(sock.addr), addr);
    const smux = smuxOver(kcp, this.#cfg, true, this.#log);
    this.#live.add(kcp);
    kcp.onClose(() => {
      this.#log?.debug(`kcp: session to ${addr} closed: ${kcp.summary()}`);
      this.#live.delete(kcp);
      smux.close();
      sync?.close();
      try {
        sock.close();
      } catch {
        // already closed
      }
    });
    smux.done.then(() => kcp.close());
    (async () => {
      // One buffer for every datagram: the session copies what it keeps into buffers it reuses.
      const room = new Uint8Array(RECEIVE_ROOM);
      while (!kcp.closed) {
        let data: Uint8Array, from: Deno.Addr;
        try {
          [data, from] = await sock.receive(room);
        } catch (err) {
          if (kcp.closed) return;
          // ICMP unreachable is reported on the socket: the peer may come up later.
          this.#log?.debug(`kcp: receive from ${addr}: ${errorMessage(err)}`);
          continue;
        }
        if ((from as Deno.NetAddr).port !== port) continue;
        kcp.input(data);
      }
    })();
    return { kcp, smux };
  }

  /**
   * Over a datagram duplex from earlier hops: a KCP session of its own with one stream.
   * A stream this dialer opened in `dial` is returned as is.
   */
  async handshake(conn: Duplex, addr: string, _ctx: DialContext): Promise<Duplex> {
    if (this.#ours.has(conn)) return conn;
    if (!conn.datagram) {
      conn.close();
      throw new DialError(
        addr,
        "kcp needs UDP from the previous hop, but it gave a byte stream; put the kcp node first " +
          "or use a previous hop whose connector carries UDP (relay, socks5 with udp, http with udp)",
      );
    }
    const session = await this.#sessionConfig().catch((err) => {
      conn.close();
      throw new DialError(addr, err);
    });
    const writer = conn.writable.getWriter();
    const send = (pkt: Uint8Array) => {
      // A datagram tunnel drops rather than queues without bound, like a UDP socket.
      // The session lends `pkt`: the queued write needs its own copy.
      if ((writer.desiredSize ?? 0) > -64) writer.write(pkt.slice()).catch(() => {});
    };
    const kcp = new KcpSession(randomConv(), session, send, conn.local, addr);
    const smux = smuxOver(kcp, this.#cfg, true, this.#log);
    kcp.onClose(() => {
      smux.close();
      conn.close();
    });
    smux.done.then(() => kcp.close());
    (async () => {
      const reader = conn.readable.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          kcp.input(value);
        }
      } catch {
        // the tunnel failed: the session ends below
      }
      kcp.close();
    })();
    try {
      const stream = await deadline(smux.openStream(), this.#opts.handshakeTimeout, "kcp: open stream");
      // This session serves one stream: it ends with it.
      return withClose(stream, () => kcp.close());
    } catch (err) {
      kcp.close();
      throw new DialError(addr, err);
    }
  }

  close(): void {
    for (const p of this.#shared.values()) p.then((s) => s.kcp.close(), () => {});
    this.#shared.clear();
  }
}

/** `d` with an extra action when it is closed. */
function withClose(d: Duplex, after: () => void): Duplex {
  return {
    get readable() {
      return d.readable;
    },
    get writable() {
      return d.writable;
    },
    local: d.local,
    remote: d.remote,
    close() {
      d.close();
      after();
    },
  };
}

/** The `kcp` dialer factory. */
export const kcpDialer: DialerFactory = {
  options: kcpDialerOptions,
  create: (init, opts) =>
    new KcpDialer(resolveKcpConfig(init.metadata, opts, `${init.path}.metadata`), opts, init.log),
};
