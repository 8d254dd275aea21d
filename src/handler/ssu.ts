/**
 * The `ssu` handler: Shadowsocks UDP relay. Each client (one datagram duplex from the `udp`
 * listener) sends sealed packets naming a destination; payloads go there through the
 * handler's router, and answers come back sealed with their source. Packets that do not
 * authenticate or are replays are dropped without an answer.
 *
 * AEAD (2017) methods: `salt | AEAD(addr + payload)` per packet, salts remembered.
 * 2022 methods (SIP022): sessions by client session id, held here across the listener's
 * per-address channels, so a client whose address changes (NAT rebinding) keeps its session;
 * answers go to the address its last valid packet came from.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { defineOptions, opt, type Options, type OptionSpec } from "../core/options.ts";
import { encodeSocksAddr } from "../core/socks_addr.ts";
import type { Handler, HandlerContext } from "../core/types.ts";
import type { MethodInfo } from "../protocol/ss/cipher.ts";
import { saltFilterFor, ssKeys } from "../protocol/ss/config.ts";
import type { SaltFilter } from "../protocol/ss/replay.ts";
import { openPacket, sealPacket } from "../protocol/ss/udp.ts";
import type { DropReason } from "../protocol/ss/udp2022.ts";
import { MIN_SESSION_TTL_MS, type ServerSession, ServerSessions } from "../protocol/ss/udp2022_session.ts";
import type { HandlerFactory, HandlerInit } from "./registry.ts";
import { UdpRelay } from "./udp_tun.ts";

export const ssuHandlerOptions = defineOptions({
  key: opt.string("key", ""),
  readTimeout: opt.ignored("readTimeout", "client sessions end by sessionTimeout, not a read deadline"),
  bufferSize: opt.ignored(
    ["bufferSize", "udpBufferSize", "udp.bufferSize"],
    "datagrams are read whole (up to 64 KiB), not cut to a buffer size",
  ),
  replayCapacity: opt.int(["replayCapacity", "replay.capacity"], 1 << 16, { min: 1024, max: 1 << 22 }),
  /** 2022: client sessions held at once (each keeps its outgoing sockets and a 256-byte replay window). */
  maxSessions: opt.int(["maxSessions", "udp.sessions"], 4096, { min: 1, max: 1 << 20 }),
  /** 2022: a session idle this long is forgotten (SIP022 asks for at least 60 s). */
  sessionTimeout: atLeast(opt.duration(["sessionTimeout", "udp.sessionTimeout"], 60_000), MIN_SESSION_TTL_MS),
});

/** `spec` refusing durations below `minMs`. */
function atLeast(spec: OptionSpec<number>, minMs: number): OptionSpec<number> {
  return {
    ...spec,
    parse(v) {
      const ms = spec.parse(v);
      if (ms < minMs) throw new Error(`must be at least ${minMs / 1000}s (SIP022 keeps sessions that long)`);
      return ms;
    },
  };
}

export type SsuHandlerOptions = Options<typeof ssuHandlerOptions.schema>;

/** Why a packet was dropped, for the log. */
const DROPPED: Record<DropReason, string> = {
  short: "is too short",
  auth: "does not authenticate (wrong key or forged)",
  type: "has the wrong header type",
  timestamp: "has a timestamp more than 30 s from our clock (replay?)",
  replay: "replays a packet id",
  header: "has a malformed header",
  session: "belongs to another session",
  full: "would start a session beyond maxSessions",
};

/** One client channel (address) answers currently go to, with the bytes sent through it. */
interface Way {
  write(packet: Uint8Array): Promise<void>;
  outputBytes: number;
}

/** The handler's part of a 2022 session. */
interface SessionLink {
  relay?: UdpRelay;
  way?: Way;
}

/** Serves Shadowsocks UDP. */
export class SsuHandler implements Handler {
  readonly method: MethodInfo;
  readonly psk: Uint8Array;
  readonly filter: SaltFilter;
  readonly sessions?: ServerSessions<SessionLink>;
  #expiry?: ReturnType<typeof setInterval>;

  constructor(readonly init: HandlerInit, readonly opts: SsuHandlerOptions) {
    ({ method: this.method, psk: this.psk } = ssKeys(init.auth, opts.key, init.path));
    this.filter = saltFilterFor(this.method, opts.replayCapacity);
    if (this.method.edition === "2022") {
      this.sessions = new ServerSessions<SessionLink>(this.method, this.psk, {
        maxSessions: opts.maxSessions,
        ttlMs: opts.sessionTimeout,
        create: () => ({}),
        dispose: (link) => link.relay?.close(),
      });
    }
  }

  handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    if (!conn.datagram) {
      throw new Error(`ssu: needs a datagram listener (udp), not ${this.init.listenerType}`);
    }
    return this.sessions ? this.#handle2022(conn, ctx, this.sessions) : this.#handleAead(conn, ctx);
  }

  async #handleAead(conn: Duplex, ctx: HandlerContext): Promise<void> {
    const { method, psk } = this;
    const writer = conn.writable.getWriter();
    const relay = new UdpRelay(
      this.init.router,
      ctx,
      (src, payload) => writer.write(sealPacket(method, psk, encodeSocksAddr(src), payload)),
    );
    const reader = conn.readable.getReader();
    let dropped = 0;
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        const p = openPacket(method, psk, r.value, this.filter);
        if (!p) {
          if (dropped++ === 0) {
            ctx.log.warn(
              `ssu: dropped a ${r.value.length}-byte packet that does not authenticate or replays a salt`,
            );
          }
          continue;
        }
        ctx.record.dst ??= p.addr;
        await relay.send(p.addr, p.payload);
      }
    } catch (err) {
      if (!ctx.signal.aborted) ctx.log.debug(`ssu: ${errorMessage(err)}`);
    } finally {
      relay.close();
      reader.releaseLock();
      writer.releaseLock();
      conn.close();
      ctx.record.inputBytes = relay.inputBytes;
      ctx.record.outputBytes = relay.outputBytes;
      if (dropped > 1) ctx.log.warn(`ssu: dropped ${dropped} packets in all`);
    }
  }

  async #handle2022(conn: Duplex, ctx: HandlerContext, sessions: ServerSessions<SessionLink>): Promise<void> {
    this.#startExpiry(sessions);
    const writer = conn.writable.getWriter();
    const way: Way = { write: (packet) => writer.write(packet), outputBytes: 0 };
    const reader = conn.readable.getReader();
    const mine = new Set<ServerSession<SessionLink>>();
    const dropped = new Map<DropReason, number>();
    let inputBytes = 0;
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        const p = sessions.open(r.value);
        if (typeof p === "string") {
          const n = (dropped.get(p) ?? 0) + 1;
          dropped.set(p, n);
          if (n === 1) ctx.log.warn(`ssu: dropped a ${r.value.length}-byte packet that ${DROPPED[p]}`);
          continue;
        }
        const { session, body } = p;
        // Answers follow the client to the address its latest valid packet came from.
        session.data.way = way;
        mine.add(session);
        session.data.relay ??= new UdpRelay(this.init.router, ctx, (src, payload) => {
          const out = session.data.way;
          if (!out) return Promise.resolve();
          out.outputBytes += payload.length;
          return out.write(sessions.seal(session, encodeSocksAddr(src), payload)).catch(() => {});
        });
        ctx.record.dst ??= body.addr;
        inputBytes += body.payload.length;
        await session.data.relay.send(body.addr, body.payload);
      }
    } catch (err) {
      if (!ctx.signal.aborted) ctx.log.debug(`ssu: ${errorMessage(err)}`);
    } finally {
      // The sessions live on (their replay windows must), but not this way back.
      for (const s of mine) if (s.data.way === way) s.data.way = undefined;
      reader.releaseLock();
      writer.releaseLock();
      conn.close();
      ctx.record.inputBytes = inputBytes;
      ctx.record.outputBytes = way.outputBytes;
      const total = [...dropped.values()].reduce((a, b) => a + b, 0);
      if (total > 1) {
        const why = [...dropped].map(([reason, n]) => `${reason} ${n}`).join(", ");
        ctx.log.warn(`ssu: dropped ${total} packets in all (${why})`);
      }
    }
  }

  /** Expires idle 2022 sessions while there are any. */
  #startExpiry(sessions: ServerSessions<SessionLink>): void {
    if (this.#expiry !== undefined) return;
    this.#expiry = setInterval(() => {
      sessions.expire();
      if (sessions.size === 0) {
        clearInterval(this.#expiry);
        this.#expiry = undefined;
      }
    }, Math.max(1000, this.opts.sessionTimeout / 4));
    Deno.unrefTimer(this.#expiry);
  }

  close(): void {
    clearInterval(this.#expiry);
    this.#expiry = undefined;
    this.sessions?.close();
  }
}

export const ssuHandler: HandlerFactory = {
  options: ssuHandlerOptions,
  create: (init: HandlerInit, opts: SsuHandlerOptions) => new SsuHandler(init, opts),
};
