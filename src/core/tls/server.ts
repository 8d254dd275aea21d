/**
 * The TLS server side of listeners: `node:tls` attached natively to sockets accepted on
 * `node:net` ({@link NodeTcpListener}). Until issue 20 the sockets came from `Deno.listen` and
 * TLS ran over them through a JavaScript stream pump: 0.82 vs 0.57 ms of server CPU per
 * handshake (serial handshakes on loopback, one process each side). Deno's native TLS listener
 * costs less still (0.35 ms), but a connection whose handshake stalls cannot be closed from our
 * side (closing cancels the handshake and leaves the socket open until the peer goes; re-checked
 * on Deno 2.9.6), and it cannot ask for client certificates. On this path closing really closes.
 * @module
 */
import { EventEmitter } from "node:events";
import * as tls from "node:tls";
import { type Duplex, IODuplex } from "../duplex.ts";
import { formatAddr } from "../addr.ts";
import { NodeConn, NodeTcpListener } from "./node_listener.ts";
import { defaultServerPair, type TlsMaterial } from "./config.ts";
import { nodeStreamIO } from "./node_stream.ts";
import type { CertPair } from "./selfsigned.ts";

/** Binds a port and turns accepted sockets into TLS duplexes. */
export class TlsAcceptor {
  /** Built once: creating a `tls.Server` parses and checks the key (about 0.3 ms each time). */
  readonly #shared: tls.Server;
  /** The shared server's own 'connection' listener, which wraps a socket in a TLSSocket. */
  readonly #startTls: (socket: unknown) => void;
  readonly #mutual: boolean;

  private constructor(pair: CertPair, ca?: string, alpn?: string[]) {
    this.#mutual = !!ca;
    this.#shared = tls.createServer({
      cert: pair.cert,
      key: pair.key,
      ca,
      requestCert: !!ca,
      rejectUnauthorized: !!ca,
      ALPNProtocols: alpn,
    });
    this.#startTls = this.#shared.listeners("connection")[0] as (socket: unknown) => void;
  }

  /**
   * A per-connection view of the shared server: it inherits the credentials and settings
   * but has its own listener table, so this connection's 'secureConnection' and
   * 'tlsClientError' reach only its own handlers (EventEmitter supports an emitter whose
   * prototype is another emitter).
   */
  #connectionServer(): tls.Server {
    const server = Object.create(this.#shared) as tls.Server;
    EventEmitter.call(server);
    return server;
  }

  /**
   * Uses the configured certificate, else the default one (see `defaultServerPair`); `alpn`: the
   * protocols selected from a client's ALPN offer.
   */
  static async create(material: TlsMaterial, alpn?: string[]): Promise<TlsAcceptor> {
    return new TlsAcceptor(material.pair ?? await defaultServerPair(), material.ca, alpn);
  }

  /** True when clients must present a certificate signed by the CA. */
  get mutual(): boolean {
    return this.#mutual;
  }

  /**
   * Binds `addr` for TCP (an empty host: all interfaces, IPv6 and IPv4), on `node:net`: TLS runs
   * natively on the sockets it accepts.
   */
  listen(addr: string, reusePort = false): Promise<NodeTcpListener> {
    return NodeTcpListener.listen(addr, reusePort);
  }

  /**
   * Runs the server handshake on an accepted socket; the caller sets the deadline and closes
   * `conn` when it passes (which really ends the connection on this path).
   */
  secure(conn: NodeConn): Promise<Duplex> {
    const sock = conn.socket;
    // A server object that never listens, fed this one socket: Deno's node:tls reports
    // handshake errors and applies client certificate checks only through tls.Server (a bare
    // TLSSocket leaves `authorized` false and keeps its errors to itself).
    const server = this.#connectionServer();
    const local = formatAddr(conn.localAddr), remote = formatAddr(conn.remoteAddr);
    return new Promise<Duplex>((resolve, reject) => {
      const fail = (err: Error) => {
        sock.destroy();
        reject(err);
      };
      const onClose = () => fail(new Error("connection closed during the TLS handshake"));
      sock.once("close", onClose);
      server.once("tlsClientError", (err: Error) => fail(err));
      server.once("secureConnection", (socket: tls.TLSSocket) => {
        sock.off("close", onClose);
        // Half-open from here on (a client's end of stream ends only its direction); during the
        // handshake the client's FIN ends the connection at once (a port scan's connect-and-close).
        socket.allowHalfOpen = true;
        if (this.#mutual && !socket.authorized) {
          socket.destroy();
          return fail(new Error(`client certificate rejected: ${socket.authorizationError ?? "none sent"}`));
        }
        resolve(new IODuplex(nodeStreamIO(socket), () => socket.destroy(), local, remote));
      });
      this.#startTls.call(server, sock);
    });
  }
}
