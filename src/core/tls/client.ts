/**
 * The TLS client handshake over any duplex. gost's default handshake — the server not verified,
 * no client certificate — runs on OpenSSL's libssl where the process may load it
 * (openssl_client.ts); the rest, and everything where libssl is missing, through `node:tls`
 * (Deno's own TLS client can only wrap a TCP socket and cannot skip verification).
 *
 * When the duplex is a TCP connection opened by {@link dialTlsTransport} (a `node:net`
 * socket), `node:tls` attaches its record layer to the socket natively: no JavaScript pump
 * carries records between TLS and the socket, which about halves the client's CPU per
 * handshake and per byte. Any other duplex (a tunnel through earlier hops, a pipe) goes
 * through a Node stream adapter.
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { dialHost, formatAddr, isIPv4, isIPv6, splitHostPort } from "../addr.ts";
import { type DirectIO, type Duplex, IODuplex } from "../duplex.ts";
import { DialError } from "../errors.ts";
import { deadline } from "../timeout.ts";
import type { TlsMaterial } from "./config.ts";
import type { TlsClientCache } from "./client_cache.ts";
import { nodeStreamIO, toNodeStream } from "./node_stream.ts";
import { opensslClientAvailable, opensslConnect, OpensslSessions } from "./openssl_client.ts";
import { dialTCP } from "../socket.ts";

/** How a client checks the server and presents itself. */
export interface TlsClientOptions extends TlsMaterial {
  /** SNI and the name verified (when `secure`); an IP address sends no SNI. */
  serverName: string;
  /** Verify the server's certificate (against `ca`, else the system roots). */
  secure: boolean;
  alpn?: string[];
  /**
   * The client's shared context and sessions (one per dialer): without it every handshake builds
   * its own context and none resumes.
   */
  cache?: TlsClientCache;
  /** The server's address, which with the server name keys the sessions of `cache`. */
  addr?: string;
}

/** Sockets behind duplexes from {@link dialTlsTransport}, until TLS takes them over. */
const nativeSockets = new WeakMap<Duplex, net.Socket>();

function nodeAddr(address: string | undefined, port: number | undefined): string {
  if (!address || port === undefined) return "";
  return formatAddr({ transport: "tcp", hostname: address, port });
}

/**
 * Opens TCP to `addr` for a TLS client. The duplex works as a plain connection too; given
 * to {@link tlsConnect} untouched (nothing read or written yet), TLS runs natively on it.
 */
export async function dialTlsTransport(
  addr: string,
  opts: { timeout: number; signal?: AbortSignal; keepAlive?: boolean; tls?: TlsChoice },
): Promise<Duplex> {
  const { host, port } = splitHostPort(addr);
  // libssl reads and writes a Deno socket directly.
  if (opts.tls && usesOpenssl(opts.tls)) return await dialTCP(addr, opts);
  const sock = net.connect({ host: dialHost(host), port, noDelay: true, keepAlive: opts.keepAlive });
  // A socket without an error listener would take the process down with it.
  sock.on("error", () => {});
  const connected = new Promise<void>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason);
    const onAbort = () => reject(opts.signal!.reason ?? new Error("aborted"));
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    sock.once("connect", () => {
      opts.signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    sock.once("error", (err) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(err);
    });
  });
  try {
    await deadline(connected, opts.timeout, "connect", () => sock.destroy());
  } catch (err) {
    sock.destroy();
    throw new DialError(addr, err);
  }
  // Reading starts only when the duplex is used as it is: TLS must find the socket unread.
  let io: DirectIO | undefined;
  const use = () => {
    nativeSockets.delete(d);
    return io ??= nodeStreamIO(sock);
  };
  const d = new IODuplex(
    {
      read: (buf) => use().read(buf),
      write: (data) => use().write(data),
      closeWrite: () => use().closeWrite(),
    },
    () => sock.destroy(),
    nodeAddr(sock.localAddress, sock.localPort),
    nodeAddr(sock.remoteAddress, sock.remotePort),
  );
  nativeSockets.set(d, sock);
  return d;
}

/** What decides which TLS client a handshake runs on. */
export type TlsChoice = Pick<TlsClientOptions, "secure" | "pair">;

/** Does a handshake with these options run on libssl (not verifying, no client certificate, libssl here)? */
export function usesOpenssl(opts: TlsChoice): boolean {
  return !opts.secure && !opts.pair && opensslClientAvailable();
}

/** libssl's tickets per client cache (the sessions of clients that may resume). */
const opensslSessions = new WeakMap<TlsClientCache, OpensslSessions>();

/** The handshake of {@link tlsConnect} on libssl, resuming with the tickets its client kept. */
async function opensslHandshake(
  conn: Duplex,
  opts: TlsClientOptions,
  name: string,
  ip: boolean,
): Promise<Duplex> {
  const { cache, addr = "" } = opts;
  nativeSockets.delete(conn);
  let sessions = cache?.resumes ? opensslSessions.get(cache) : undefined;
  if (cache?.resumes && !sessions) opensslSessions.set(cache, sessions = new OpensslSessions());
  const { duplex, resumed } = await opensslConnect(conn, {
    sni: ip || name === "" ? undefined : name,
    alpn: opts.alpn,
    sessions,
    sessionKey: `${name}\n${addr}`,
  });
  cache?.finished(resumed);
  return duplex;
}

/**
 * Deno's `node:tls` builds the peer's certificate as a JS object (native DER parsing, issuer
 * chain, fingerprints) at the end of every handshake without a verification error — every
 * resumed one — only to hand it to `checkServerIdentity`, which a client that does not verify
 * ignores: ~0.1 ms of CPU per connection. Until 'secureConnect' the socket's own method answers
 * with an empty certificate instead; afterwards the real one is back.
 */
function skipPeerCertificate(socket: tls.TLSSocket): void {
  Object.defineProperty(socket, "getPeerCertificate", {
    value: () => ({}),
    configurable: true,
    writable: true,
  });
}

function restorePeerCertificate(socket: tls.TLSSocket): void {
  if (Object.hasOwn(socket, "getPeerCertificate")) {
    delete (socket as { getPeerCertificate?: unknown }).getPeerCertificate;
  }
}

/**
 * Runs the client handshake over `conn`; resolves to the encrypted duplex. Rejects with the
 * TLS error (wrong certificate, not TLS at all, closed). The caller sets the deadline and
 * closes `conn` on failure.
 */
export function tlsConnect(conn: Duplex, opts: TlsClientOptions): Promise<Duplex> {
  const name = opts.serverName.replace(/^\[|\]$/g, "");
  const ip = isIPv4(name) || isIPv6(name);
  if (usesOpenssl(opts)) return opensslHandshake(conn, opts, name, ip);
  const native = nativeSockets.get(conn);
  nativeSockets.delete(conn);
  const transport = native ? undefined : toNodeStream(conn);
  const { cache, addr = "" } = opts;
  const socket = tls.connect({
    socket: (native ?? transport) as unknown as net.Socket,
    servername: ip || name === "" ? undefined : name,
    rejectUnauthorized: opts.secure,
    ...cache ? { secureContext: cache.context } : { ca: opts.ca, cert: opts.pair?.cert, key: opts.pair?.key },
    session: cache?.session(name, addr),
    ALPNProtocols: opts.alpn,
    // With verification on, an IP address is checked against the certificate's IP SANs.
    checkServerIdentity: opts.secure
      ? (host, cert) => tls.checkServerIdentity(name || host, cert)
      : () => undefined,
  });
  cache?.watch(socket, name, addr);
  if (!opts.secure) skipPeerCertificate(socket);
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => fail(err);
    const onClose = () => fail(new Error("connection closed during the TLS handshake"));
    const fail = (err: Error) => {
      cache?.forget(name, addr);
      socket.destroy();
      conn.close();
      reject(err);
    };
    socket.once("error", onError);
    socket.once("close", onClose);
    socket.once("secureConnect", () => {
      restorePeerCertificate(socket);
      cache?.finished(socket.isSessionReused());
      // Only our own listeners: the TLS socket keeps internal ones on these events.
      socket.off("error", onError);
      socket.off("close", onClose);
      const io = nodeStreamIO(socket, transport);
      resolve(new IODuplex(io, () => socket.destroy(), conn.local, conn.remote));
    });
  });
}
