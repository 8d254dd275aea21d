/**
 * What the multiplexed dialers (mtcp, mtls, mws, mwss over smux; h2c and grpc over HTTP/2) share:
 * one session per node address over the channel of a plain dialer (tcp, tls, ws, wss), shared by
 * every dial; each dial opens one stream on it (gost's "multiplex" dialers). A session that died
 * is replaced by the next dial; two dials racing for a new session wait for the same one.
 *
 * Inside a chain (a stream from earlier hops), `handshake` runs the channel and an smux session of
 * its own over that stream, with one stream that ends the session when it is closed.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { DialError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { deadline } from "../core/timeout.ts";
import type { DialContext, Dialer } from "../core/types.ts";
import { type MuxOptions, smuxOptionsOf } from "../protocol/smux/options.ts";
import { SmuxSession } from "../protocol/smux/session.ts";

/** A session of streams over one connection: smux, HTTP/2. */
export interface StreamSession {
  /** Opens a stream ready for the connector (for HTTP/2: the request answered). */
  openStream(): Promise<Duplex>;
  readonly closed: boolean;
  readonly done: Promise<void>;
  /**
   * True when a stream that could not be opened says nothing about the connection (QUIC: the
   * peer's stream limit was reached), so the session is kept; else it is closed as broken.
   */
  readonly keepOnOpenError?: boolean;
  close(): void;
}

/** Makes the client session over a channel's connection to `addr`. */
export type SessionFactory = (carrier: Duplex, addr: string) => StreamSession;

/** smux client sessions with the `mux.*` options. */
export function smuxSessions(mux: MuxOptions, log?: Logger): SessionFactory {
  return (carrier) => new SmuxSession(carrier, { ...smuxOptionsOf(mux, true), log });
}

/** A dialer whose streams share one session per node over `channel`'s connection. */
export class MuxDialer implements Dialer {
  readonly #sessions = new Map<string, Promise<StreamSession>>();
  /** Streams this dialer opened in `dial` (their handshake is already done). */
  readonly #ours = new WeakSet<Duplex>();

  /**
   * @param channel the plain dialer whose connection carries the session (tcp, tls, ws, wss)
   * @param newSession the session over a channel connection (e.g. {@link smuxSessions})
   * @param handshakeTimeout bound on opening a stream (and the channel's own handshake, which it
   *   enforces itself)
   */
  constructor(
    readonly channel: Dialer,
    readonly newSession: SessionFactory,
    readonly handshakeTimeout: number,
  ) {}

  /** The sessions alive now (for tests). */
  async sessions(): Promise<StreamSession[]> {
    const all = await Promise.allSettled(this.#sessions.values());
    return all.flatMap((r) => (r.status === "fulfilled" && !r.value.closed ? [r.value] : []));
  }

  async dial(addr: string, ctx: DialContext): Promise<Duplex> {
    let session = await this.#sessions.get(addr)?.catch(() => null);
    if (!session || session.closed) {
      const p = this.connect(addr, ctx);
      this.#sessions.set(addr, p);
      p.then(
        (s) => s.done.then(() => this.#sessions.get(addr) === p && this.#sessions.delete(addr)),
        () => this.#sessions.get(addr) === p && this.#sessions.delete(addr),
      );
      session = await p;
    }
    try {
      const stream = await deadline(session.openStream(), this.handshakeTimeout, "mux: open stream");
      this.#ours.add(stream);
      return stream;
    } catch (err) {
      if (!session.keepOnOpenError) session.close();
      throw new DialError(addr, err);
    }
  }

  /** A new session to `addr` (quic overrides it: its connection is not a channel's stream). */
  protected async connect(addr: string, ctx: DialContext): Promise<StreamSession> {
    const conn = await this.channel.dial(addr, ctx);
    const carrier = await this.channel.handshake(conn, addr, ctx);
    return this.newSession(carrier, addr);
  }

  async handshake(conn: Duplex, addr: string, ctx: DialContext): Promise<Duplex> {
    if (this.#ours.has(conn)) return conn;
    const carrier = await this.channel.handshake(conn, addr, ctx);
    const session = this.newSession(carrier, addr);
    try {
      const stream = await deadline(session.openStream(), this.handshakeTimeout, "mux: open stream");
      return endsSession(stream, session);
    } catch (err) {
      session.close();
      throw new DialError(addr, err);
    }
  }

  close(): void {
    for (const p of this.#sessions.values()) p.then((s) => s.close(), () => {});
    this.#sessions.clear();
    this.channel.close?.();
  }
}

/** `stream` whose close also ends the session it alone uses. */
function endsSession(stream: Duplex, session: StreamSession): Duplex {
  return {
    get readable() {
      return stream.readable;
    },
    get writable() {
      return stream.writable;
    },
    get direct() {
      return stream.direct;
    },
    local: stream.local,
    remote: stream.remote,
    close() {
      stream.close();
      session.close();
    },
  };
}
