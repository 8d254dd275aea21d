/**
 * Shadowsocks 2022 UDP sessions (SIP022 §3.2.4), without I/O: the server's table of client
 * sessions (keyed by client session id, never by address, so a client whose address changes
 * keeps its session) and the client's one session with the server sessions answering it.
 * Each session keeps a sliding-window replay filter; windows move only for packets that
 * authenticated and carry a valid header.
 *
 * Subkey order (see {@link KeyOrder}): our sessions are keyed gost's way, so that gost peers
 * open them. A session first heard from is tried gost's way, then the spec's; the order that
 * opened its first packet is kept for the session, and a server answers a client session in
 * the order the client used (a SIP022 client gets SIP022 answers).
 * @module
 */
import type { MethodInfo } from "./cipher.ts";
import { PacketWindow } from "./replay.ts";
import {
  type DropReason,
  type KeyOrder,
  newSessionKey,
  openBody2022,
  type OpenedBody2022,
  openSeparateHeader,
  sameSessionId,
  sealPacket2022,
  type SeparateHeader,
  SeparateHeaderCipher,
  sessionIdKey,
  type SessionKey,
  sessionKey,
  TYPE_CLIENT,
  TYPE_SERVER,
} from "./udp2022.ts";

/** SIP022: sessions (and so their replay windows) are remembered at least this long. */
export const MIN_SESSION_TTL_MS = 60_000;

/** The order our own sessions use, then the one tried next for a peer's new session. */
const ORDERS: readonly KeyOrder[] = ["gost", "spec"];

/**
 * Opens the first packet of a session not seen before: its subkey is tried in each order
 * (the second derivation only for a packet the first does not open).
 */
function openNewSession(
  method: MethodInfo,
  psk: Uint8Array,
  header: SeparateHeader,
  packet: Uint8Array,
  type: typeof TYPE_CLIENT | typeof TYPE_SERVER,
  now: number,
): { key: SessionKey; body: OpenedBody2022 } | DropReason {
  const id = header.sessionId.slice();
  let reason: DropReason = "auth";
  for (const order of ORDERS) {
    const key = sessionKey(method, psk, id, order);
    const body = openBody2022(key.aead, header, packet, type, now);
    if (typeof body !== "string") return { key, body };
    reason = body;
    if (body !== "auth") break; // it authenticated: the order was right, the header is not
  }
  return reason;
}

/** One client session as the server sees it. */
export interface ServerSession<T> {
  /** The client's session id key (see {@link sessionIdKey}). */
  readonly key: string;
  /** The client's session: its id and the AEAD its packets are sealed with. */
  readonly client: SessionKey;
  /** Our session answering it. */
  readonly server: SessionKey;
  readonly window: PacketWindow;
  nextPacketId: number;
  lastSeen: number;
  /** What the handler attaches (its relay and the way back to the client). */
  readonly data: T;
}

/** What {@link ServerSessions.open} found in a valid packet. */
export interface ServerPacket<T> {
  session: ServerSession<T>;
  body: OpenedBody2022;
  /** True for the first packet of a session. */
  created: boolean;
}

/** Options of a {@link ServerSessions} table. */
export interface ServerSessionsOptions<T> {
  /** Most sessions at once; packets that would start another are dropped ("full"). */
  maxSessions: number;
  /** Idle time after which a session is forgotten (at least {@link MIN_SESSION_TTL_MS}). */
  ttlMs: number;
  /** Builds the handler's part of a new session. */
  create: (session: Omit<ServerSession<T>, "data">) => T;
  /** Releases it when the session expires or the table closes. */
  dispose: (data: T) => void;
  now?: () => number;
}

/** The server's client sessions. */
export class ServerSessions<T> {
  readonly #sessions = new Map<string, ServerSession<T>>();
  readonly #headers: SeparateHeaderCipher;
  readonly #now: () => number;

  constructor(
    readonly method: MethodInfo,
    readonly psk: Uint8Array,
    readonly opts: ServerSessionsOptions<T>,
  ) {
    this.#headers = new SeparateHeaderCipher(psk);
    this.#now = opts.now ?? Date.now;
  }

  /** Live sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Opens a client packet, finding or starting its session; a reason when it is dropped. */
  open(packet: Uint8Array): ServerPacket<T> | DropReason {
    const header = openSeparateHeader(this.#headers, packet);
    if (typeof header === "string") return header;
    const key = sessionIdKey(header.sessionId);
    let session = this.#sessions.get(key);
    if (session && !session.window.fresh(header.packetId)) return "replay";
    const now = this.#now();
    let client: SessionKey, body: OpenedBody2022 | DropReason;
    if (session) {
      client = session.client;
      body = openBody2022(client.aead, header, packet, TYPE_CLIENT, now);
    } else {
      const first = openNewSession(this.method, this.psk, header, packet, TYPE_CLIENT, now);
      if (typeof first === "string") return first;
      ({ key: client, body } = first);
    }
    if (typeof body === "string") return body;
    const created = !session;
    if (!session) {
      if (this.#sessions.size >= this.opts.maxSessions) this.expire();
      if (this.#sessions.size >= this.opts.maxSessions) return "full";
      const base = {
        key,
        client,
        server: newSessionKey(this.method, this.psk, client.order),
        window: new PacketWindow(),
        nextPacketId: 0,
        lastSeen: now,
      };
      session = { ...base, data: this.opts.create(base) };
      this.#sessions.set(key, session);
    }
    if (!session.window.accept(header.packetId)) return "replay";
    session.lastSeen = now;
    return { session, body, created };
  }

  /** Seals an answer from `addr` (SOCKS bytes) to the client of `session`. */
  seal(session: ServerSession<T>, addr: Uint8Array, payload: Uint8Array): Uint8Array {
    return sealPacket2022(
      this.#headers,
      session.server,
      session.nextPacketId++,
      { type: TYPE_SERVER, clientSessionId: session.client.id },
      addr,
      payload,
      this.#now(),
    );
  }

  /** Forgets sessions idle for longer than the TTL. */
  expire(): void {
    const cutoff = this.#now() - this.opts.ttlMs;
    for (const s of this.#sessions.values()) {
      if (s.lastSeen <= cutoff) this.#drop(s);
    }
  }

  /** Forgets every session. */
  close(): void {
    for (const s of [...this.#sessions.values()]) this.#drop(s);
  }

  #drop(s: ServerSession<T>): void {
    this.#sessions.delete(s.key);
    this.opts.dispose(s.data);
  }
}

interface ServerSide {
  key: string;
  session: SessionKey;
  window: PacketWindow;
  lastSeen: number;
}

/**
 * A client's session: seals its packets and opens the server's answers. A server restart
 * shows up as a new server session; one current and one previous server session are kept,
 * and a third is refused while the previous one was heard from less than a minute ago.
 */
export class ClientSession {
  readonly key: SessionKey;
  readonly #headers: SeparateHeaderCipher;
  readonly #now: () => number;
  #nextPacketId = 0;
  #current?: ServerSide;
  #previous?: ServerSide;

  /** `id` fixes the session id (tests replaying recorded answers); it is random otherwise. */
  constructor(
    readonly method: MethodInfo,
    readonly psk: Uint8Array,
    now: () => number = Date.now,
    id?: Uint8Array,
  ) {
    this.key = newSessionKey(method, psk, "gost", id);
    this.#headers = new SeparateHeaderCipher(psk);
    this.#now = now;
  }

  /** Seals `payload` for the destination `addr` (SOCKS bytes). */
  seal(addr: Uint8Array, payload: Uint8Array): Uint8Array {
    return sealPacket2022(
      this.#headers,
      this.key,
      this.#nextPacketId++,
      { type: TYPE_CLIENT },
      addr,
      payload,
      this.#now(),
    );
  }

  /** Opens a server packet answering this session; a reason when it is dropped. */
  open(packet: Uint8Array): OpenedBody2022 | DropReason {
    const header = openSeparateHeader(this.#headers, packet);
    if (typeof header === "string") return header;
    const key = sessionIdKey(header.sessionId);
    let side = this.#current?.key === key
      ? this.#current
      : this.#previous?.key === key
      ? this.#previous
      : undefined;
    if (side && !side.window.fresh(header.packetId)) return "replay";
    const now = this.#now();
    let session: SessionKey, body: OpenedBody2022 | DropReason;
    if (side) {
      session = side.session;
      body = openBody2022(session.aead, header, packet, TYPE_SERVER, now);
    } else {
      const first = openNewSession(this.method, this.psk, header, packet, TYPE_SERVER, now);
      if (typeof first === "string") return first;
      ({ key: session, body } = first);
    }
    if (typeof body === "string") return body;
    if (!sameSessionId(body.clientSessionId!, this.key.id)) return "session";
    if (!side) {
      if (this.#previous && now - this.#previous.lastSeen < MIN_SESSION_TTL_MS) return "session";
      side = { key, session, window: new PacketWindow(), lastSeen: now };
      this.#previous = this.#current;
      this.#current = side;
    }
    if (!side.window.accept(header.packetId)) return "replay";
    side.lastSeen = now;
    return body;
  }
}
