/**
 * What the multiplexed listeners (mtcp, mtls, mws, mwss over smux; h2c and grpc over HTTP/2)
 * share: each connection that the plain listener of the same channel accepts (tcp, tls, ws, wss)
 * becomes a server session, and every stream its client opens is one accepted connection for
 * the handler. Streams wait for
 * `accept()` in a queue bounded by `backlog`; a stream that finds it full is closed (its client
 * sees the stream end) rather than held, so one busy session cannot stall the listener.
 * @module
 */
import { AcceptQueue } from "../core/accept_queue.ts";
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { Listener } from "../core/types.ts";
import { type MuxOptions, smuxOptionsOf } from "../protocol/smux/options.ts";
import { SmuxSession } from "../protocol/smux/session.ts";

/** The server end of a session: the streams its client opens. */
export interface StreamServer {
  /** The next stream ready for the handler, or null once the session has ended. */
  accept(): Promise<Duplex | null>;
  readonly done: Promise<void>;
  close(): void;
}

/** Makes the server session over an accepted connection. */
export type ServerFactory<C = Duplex> = (conn: C) => StreamServer;

/** What a channel listener yields: duplexes (tcp, tls, ws, wss) or QUIC connections. */
export interface ChannelListener<C> {
  listen(): Promise<void>;
  accept(): Promise<C | null>;
  readonly addr: string;
  close(): void;
  /** The admission check before the channel's own handshake (see `Listener.gate`). */
  gate?(admit: (remote: string) => boolean): void;
}

/** smux server sessions with the `mux.*` options. */
export function smuxServers(mux: MuxOptions, log: Logger): ServerFactory {
  return (conn) => new SmuxSession(conn, { ...smuxOptionsOf(mux, false), log });
}

/** At most one "backlog full" line per this many ms. */
const REFUSAL_LOG_INTERVAL = 5_000;

/** Streams of smux sessions over the connections of `channel`, as accepted connections. */
export class MuxListener<C = Duplex> implements Listener {
  readonly #queue: AcceptQueue<Duplex>;
  readonly #sessions = new Set<StreamServer>();
  #closed = false;
  #lastRefusalLog = -Infinity;

  constructor(
    readonly channel: ChannelListener<C>,
    readonly newSession: ServerFactory<C>,
    backlog: number,
    readonly log: Logger,
  ) {
    this.#queue = new AcceptQueue(backlog);
  }

  get addr(): string {
    return this.channel.addr;
  }

  /** Sessions alive now (for tests). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  async listen(): Promise<void> {
    await this.channel.listen();
    this.#acceptSessions();
  }

  accept(): Promise<Duplex | null> {
    return this.#queue.next();
  }

  /** A refused client is closed before the channel's own handshake (tls, ws). */
  gate(admit: (remote: string) => boolean): void {
    this.channel.gate?.(admit);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.channel.close();
    this.#queue.close();
    for (const s of this.#sessions) s.close();
  }

  async #acceptSessions(): Promise<void> {
    while (!this.#closed) {
      let conn: C | null;
      try {
        conn = await this.channel.accept();
      } catch (err) {
        if (this.#closed) break;
        this.log.debug(`mux: accept: ${errorMessage(err)}`);
        continue;
      }
      if (!conn) break;
      const session = this.newSession(conn);
      this.#sessions.add(session);
      session.done.then(() => this.#sessions.delete(session));
      this.#acceptStreams(session);
    }
    this.close();
  }

  async #acceptStreams(session: StreamServer): Promise<void> {
    for (;;) {
      const stream = await session.accept();
      if (!stream) return;
      if (this.#queue.offer(stream)) continue;
      stream.close();
      const now = performance.now();
      if (!this.#closed && now - this.#lastRefusalLog >= REFUSAL_LOG_INTERVAL) {
        this.#lastRefusalLog = now;
        this.log.warn(`mux: backlog of ${this.#queue.backlog} streams full: new streams are closed`);
      }
    }
  }
}
