/**
 * The TLS server side of listeners. Without client authentication, Deno's native TLS
 * terminates (the fastest path measured, and the socket keeps its direct read loop); with a
 * CA (mutual TLS, which Deno's listener cannot ask for) `node:tls` runs over the TCP socket.
 * @module
 */
import * as tls from "node:tls";
import { listenHost, splitHostPort } from "../addr.ts";
import { type Duplex, IODuplex } from "../duplex.ts";
import { socketDuplex } from "../socket.ts";
import { ListenError } from "../types.ts";
import { defaultServerPair, type TlsMaterial } from "./config.ts";
import { nodeStreamIO, toNodeStream } from "./node_stream.ts";
import type { CertPair } from "./selfsigned.ts";

/** Binds a port and turns accepted sockets into TLS duplexes. */
export class TlsAcceptor {
  readonly #pair: CertPair;
  readonly #ca?: string;

  private constructor(pair: CertPair, ca?: string) {
    this.#pair = pair;
    this.#ca = ca;
  }

  /** Uses the configured certificate, else the default one (see `defaultServerPair`). */
  static async create(material: TlsMaterial): Promise<TlsAcceptor> {
    return new TlsAcceptor(material.pair ?? await defaultServerPair(), material.ca);
  }

  /** True when clients must present a certificate signed by the CA. */
  get mutual(): boolean {
    return !!this.#ca;
  }

  /** Binds `addr` (an empty host: all interfaces, IPv6 and IPv4). */
  listen(addr: string, reusePort = false): Deno.Listener {
    const { host, port } = splitHostPort(addr);
    const bind = (hostname: string): Deno.Listener =>
      this.#ca
        ? Deno.listen({ hostname, port, reusePort })
        : Deno.listenTls({ hostname, port, reusePort, cert: this.#pair.cert, key: this.#pair.key });
    try {
      if (host === "") {
        try {
          return bind("::");
        } catch (err) {
          if (err instanceof Deno.errors.AddrInUse) throw err;
        }
      }
      return bind(listenHost(host));
    } catch (err) {
      throw new ListenError(addr, err);
    }
  }

  /** Completes the server handshake on an accepted socket; the caller sets the deadline. */
  async secure(conn: Deno.Conn): Promise<Duplex> {
    if (!this.#ca) {
      await (conn as Deno.TlsConn).handshake();
      return socketDuplex(conn);
    }
    const raw = socketDuplex(conn);
    // A server object that never listens, fed this one socket: Deno's node:tls applies client
    // certificate checks through tls.Server (a bare TLSSocket leaves `authorized` false).
    const server = tls.createServer({
      cert: this.#pair.cert,
      key: this.#pair.key,
      ca: this.#ca,
      requestCert: true,
      rejectUnauthorized: true,
    });
    return await new Promise<Duplex>((resolve, reject) => {
      const stream = toNodeStream(raw);
      const fail = (err: Error) => {
        stream.destroy();
        raw.close();
        reject(err);
      };
      const onClose = () => fail(new Error("connection closed during the TLS handshake"));
      stream.once("close", onClose);
      server.once("tlsClientError", (err: Error) => fail(err));
      server.once("secureConnection", (socket: tls.TLSSocket) => {
        stream.off("close", onClose);
        if (!socket.authorized) {
          socket.destroy();
          return fail(new Error(`client certificate rejected: ${socket.authorizationError ?? "none sent"}`));
        }
        resolve(new IODuplex(nodeStreamIO(socket, stream), () => socket.destroy(), raw.local, raw.remote));
      });
      server.emit("connection", stream);
    });
  }
}
