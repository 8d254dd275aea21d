/**
 * The TLS client handshake over any duplex, through `node:tls` (Deno's own TLS client can
 * only wrap a TCP socket and cannot skip verification, which is gost's default).
 * @module
 */
import * as tls from "node:tls";
import { isIPv4, isIPv6 } from "../addr.ts";
import { type Duplex, IODuplex } from "../duplex.ts";
import type { TlsMaterial } from "./config.ts";
import { nodeStreamIO, toNodeStream } from "./node_stream.ts";

/** How a client checks the server and presents itself. */
export interface TlsClientOptions extends TlsMaterial {
  /** SNI and the name verified (when `secure`); an IP address sends no SNI. */
  serverName: string;
  /** Verify the server's certificate (against `ca`, else the system roots). */
  secure: boolean;
  alpn?: string[];
}

/**
 * Runs the client handshake over `conn`; resolves to the encrypted duplex. Rejects with the
 * TLS error (wrong certificate, not TLS at all, closed). The caller sets the deadline and
 * closes `conn` on failure.
 */
export function tlsConnect(conn: Duplex, opts: TlsClientOptions): Promise<Duplex> {
  const name = opts.serverName.replace(/^\[|\]$/g, "");
  const ip = isIPv4(name) || isIPv6(name);
  const transport = toNodeStream(conn);
  const socket = tls.connect({
    socket: transport as unknown as import("node:net").Socket,
    servername: ip || name === "" ? undefined : name,
    rejectUnauthorized: opts.secure,
    ca: opts.ca,
    cert: opts.pair?.cert,
    key: opts.pair?.key,
    ALPNProtocols: opts.alpn,
    // With verification on, an IP address is checked against the certificate's IP SANs.
    checkServerIdentity: opts.secure
      ? (host, cert) => tls.checkServerIdentity(name || host, cert)
      : () => undefined,
  });
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => fail(err);
    const onClose = () => fail(new Error("connection closed during the TLS handshake"));
    const fail = (err: Error) => {
      socket.destroy();
      conn.close();
      reject(err);
    };
    socket.once("error", onError);
    socket.once("close", onClose);
    socket.once("secureConnect", () => {
      // Only our own listeners: the TLS socket keeps internal ones on these events.
      socket.off("error", onError);
      socket.off("close", onClose);
      const io = nodeStreamIO(socket, transport);
      resolve(new IODuplex(io, () => socket.destroy(), conn.local, conn.remote));
    });
  });
}
