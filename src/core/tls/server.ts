/**
 * The TLS server side of listeners. Where it can serve (no client certificates asked for, Linux
 * with the libc grant) that is Deno's own TLS: native_server.ts. Else `node:tls` over the accepted
 * TCP socket, attached natively to it where Deno allows ({@link adoptSocket}: 0.82 → 0.57 ms
 * server CPU per handshake), else through the Node stream adapter.
 * @module
 */
import { EventEmitter } from "node:events";
import type * as net from "node:net";
import * as tls from "node:tls";
import { type Duplex, IODuplex } from "../duplex.ts";
import { socketDuplex } from "../socket.ts";
import { formatAddr } from "../addr.ts";
import { type AcceptingSocket, listenTCP } from "../listen.ts";
import { defaultServerPair, type TlsMaterial } from "./config.ts";
import { nodeStreamIO, SOURCE_END, toNodeStream } from "./node_stream.ts";
import { adoptSocket } from "./adopt.ts";
import { loadTcpWrap } from "../tcp_wrap.ts";
import { listenNativeTls, secureNative } from "./native_server.ts";
import type { CertPair } from "./selfsigned.ts";

/** How long a handshake may go on after the client's end of stream (its last records in flight). */
const EOF_GRACE_MS = 20;

/** Binds a port and turns accepted sockets into TLS duplexes. */
export class TlsAcceptor {
  readonly #mutual: boolean;
  readonly #pair: CertPair;
  readonly #ca?: string;
  readonly #alpn?: string[];
  readonly #allowNative: boolean;
  /** True once `listen` bound with Deno's own TLS (native_server.ts). */
  #native = false;
  /**
   * The `node:tls` server, built once and only where it serves (creating one parses and checks
   * the key, about 0.3 ms each time), with its own 'connection' listener, which wraps a socket in
   * a TLSSocket.
   */
  #node?: { server: tls.Server; startTls: (socket: unknown) => void };

  private constructor(pair: CertPair, ca?: string, alpn?: string[], allowNative = true) {
    this.#mutual = !!ca;
    this.#pair = pair;
    this.#ca = ca;
    this.#alpn = alpn;
    this.#allowNative = allowNative;
  }

  #nodeServer(): { server: tls.Server; startTls: (socket: unknown) => void } {
    if (this.#node) return this.#node;
    const ca = this.#ca;
    const server = tls.createServer({
      cert: this.#pair.cert,
      key: this.#pair.key,
      ca,
      requestCert: !!ca,
      rejectUnauthorized: !!ca,
      ALPNProtocols: this.#alpn,
    });
    this.#node = { server, startTls: server.listeners("connection")[0] as (socket: unknown) => void };
    return this.#node;
  }

  /**
   * A per-connection view of the shared server: it inherits the credentials and settings
   * but has its own listener table, so this connection's 'secureConnection' and
   * 'tlsClientError' reach only its own handlers (EventEmitter supports an emitter whose
   * prototype is another emitter).
   */
  #connectionServer(): tls.Server {
    const server = Object.create(this.#nodeServer().server) as tls.Server;
    EventEmitter.call(server);
    return server;
  }

  /**
   * Uses the configured certificate, else the default one (see `defaultServerPair`); `alpn`: the
   * protocols selected from a client's ALPN offer; `native: false` keeps `node:tls` (tests).
   */
  static async create(
    material: TlsMaterial,
    alpn?: string[],
    opts: { native?: boolean } = {},
  ): Promise<TlsAcceptor> {
    return new TlsAcceptor(
      material.pair ?? await defaultServerPair(),
      material.ca,
      alpn,
      opts.native ?? true,
    );
  }

  /** True when clients must present a certificate signed by the CA. */
  get mutual(): boolean {
    return this.#mutual;
  }

  /**
   * Binds `addr` (an empty host: all interfaces, IPv6 and IPv4): with Deno's own TLS where it can
   * serve (no client certificates asked for; see native_server.ts), else for TCP, each accepted
   * socket then getting `node:tls`.
   */
  listen(addr: string, reusePort = false, keepAlive = false): AcceptingSocket {
    if (!this.#mutual && this.#allowNative) {
      const l = listenNativeTls(addr, this.#pair, { alpn: this.#alpn, reusePort, keepAlive });
      if (l) {
        this.#native = true;
        return l;
      }
    }
    this.#nodeServer(); // a certificate node:tls refuses is an error here, at start
    return listenTCP(addr, reusePort);
  }

  /** True when connections are served by Deno's own TLS (for tests). */
  get native(): boolean {
    return this.#native;
  }

  /**
   * Runs the server handshake on an accepted socket; the caller sets the deadline and closes
   * `conn` when it passes (which really ends the connection on this path).
   */
  async secure(conn: Deno.Conn): Promise<Duplex> {
    if (this.#native) return secureNative(conn as Deno.TlsConn);
    await loadTcpWrap(); // what adoptSocket attaches by (loaded once)
    const sock = adoptSocket(conn);
    return sock ? this.#secureAdopted(conn, sock) : this.#secureStream(conn);
  }

  /** TLS attached to the socket's handle; `conn` still owns the socket (closing it closes both). */
  #secureAdopted(conn: Deno.Conn, sock: net.Socket): Promise<Duplex> {
    const local = formatAddr(conn.localAddr), remote = formatAddr(conn.remoteAddr);
    const server = this.#connectionServer();
    // Whoever closes `conn` (the handshake deadline, an eviction) ends the TLS socket with it:
    // the Node socket sees nothing of a close of the connection beneath it.
    const closeSocket = conn.close.bind(conn);
    const closeConn = () => {
      sock.destroy();
      try {
        closeSocket();
      } catch {
        // closed already
      }
    };
    conn.close = closeConn;
    return new Promise<Duplex>((resolve, reject) => {
      const fail = (err: Error) => {
        closeConn();
        reject(err);
      };
      // The socket is not half-open yet: a client's FIN mid-handshake (a port scan's
      // connect-and-close) ends the handshake at once, and so does closing `conn`.
      const onClose = () => fail(new Error("connection closed during the TLS handshake"));
      sock.once("close", onClose);
      server.once("tlsClientError", (err: Error) => fail(err));
      server.once("secureConnection", (socket: tls.TLSSocket) => {
        sock.off("close", onClose);
        // From here on a client's end of stream ends only its direction.
        socket.allowHalfOpen = true;
        if (this.#mutual && !socket.authorized) {
          socket.destroy();
          return fail(new Error(`client certificate rejected: ${socket.authorizationError ?? "none sent"}`));
        }
        const close = () => {
          socket.destroy();
          closeConn();
        };
        resolve(new IODuplex(nodeStreamIO(socket), close, local, remote));
      });
      this.#nodeServer().startTls.call(server, sock);
    });
  }

  #secureStream(conn: Deno.Conn): Promise<Duplex> {
    const raw = socketDuplex(conn);
    // A server object that never listens, fed this one socket: Deno's node:tls reports
    // handshake errors and applies client certificate checks only through tls.Server (a bare
    // TLSSocket leaves `authorized` false and keeps its errors to itself).
    const server = this.#connectionServer();
    return new Promise<Duplex>((resolve, reject) => {
      const stream = toNodeStream(raw);
      const fail = (err: Error) => {
        stream.destroy();
        raw.close();
        reject(err);
      };
      let secured = false;
      const onClose = () => fail(new Error("connection closed during the TLS handshake"));
      stream.once("close", onClose);
      // The transport is half-open for TLS's sake, so the client's FIN alone closes nothing:
      // a client that goes away mid-handshake (a port scan) would keep its socket until the
      // deadline. Its last bytes may still complete the handshake: give the TLS layer the
      // moment it needs for them, then give up.
      stream.once(SOURCE_END, () => {
        setTimeout(() => {
          if (!secured) fail(new Error("connection closed during the TLS handshake"));
        }, EOF_GRACE_MS);
      });
      server.once("tlsClientError", (err: Error) => fail(err));
      server.once("secureConnection", (socket: tls.TLSSocket) => {
        secured = true;
        stream.off("close", onClose);
        if (this.#mutual && !socket.authorized) {
          socket.destroy();
          return fail(new Error(`client certificate rejected: ${socket.authorizationError ?? "none sent"}`));
        }
        resolve(new IODuplex(nodeStreamIO(socket, stream), () => socket.destroy(), raw.local, raw.remote));
      });
      this.#nodeServer().startTls.call(server, stream);
    });
  }
}
