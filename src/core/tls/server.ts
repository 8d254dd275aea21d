/**
 * The TLS server side of listeners: `node:tls` over the accepted TCP socket. Deno's native TLS
 * listener terminates faster (about 8 vs 5 Gbit/s measured in one process), but a connection
 * whose handshake stalls cannot be closed from our side (closing cancels the handshake and
 * leaves the socket open until the peer goes), and it cannot ask for client certificates.
 * @module
 */
import { EventEmitter } from "node:events";
import * as tls from "node:tls";
import { type Duplex, IODuplex } from "../duplex.ts";
import { socketDuplex } from "../socket.ts";
import { listenTCP } from "../listen.ts";
import { defaultServerPair, type TlsMaterial } from "./config.ts";
import { nodeStreamIO, SOURCE_END, toNodeStream } from "./node_stream.ts";
import type { CertPair } from "./selfsigned.ts";

/** How long a handshake may go on after the client's end of stream (its last records in flight). */
const EOF_GRACE_MS = 20;

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

  /** Binds `addr` for TCP (an empty host: all interfaces, IPv6 and IPv4). */
  listen(addr: string, reusePort = false): Deno.Listener {
    return listenTCP(addr, reusePort);
  }

  /**
   * Runs the server handshake on an accepted socket; the caller sets the deadline and closes
   * `conn` when it passes (which really ends the connection on this path).
   */
  secure(conn: Deno.Conn): Promise<Duplex> {
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
      this.#startTls.call(server, stream);
    });
  }
}
