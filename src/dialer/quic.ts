/**
 * The `quic` dialer: one QUIC connection per node (ALPN `h3`, `quic/v1`), shared by every
 * connection through it, each a bidirectional stream; a connection that ended is replaced by the
 * next dial. Options as gost's: `keepAlive` (default on, every `ttl` = 10 s), `handshakeTimeout`
 * (5 s), `maxIdleTimeout` (30 s), `maxStreams` (100), `secure`/`serverName`/`caFile`.
 *
 * Deno's QUIC client always verifies the server's certificate, so gost's default (no
 * verification) is approached by pinning: `caFile`, else `cert.pem` of the working directory
 * (the certificate a gost or gost-deno server there uses by default), checked without the host
 * name unless `secure=true`. `cipherKey` (gost's AES-GCM over every datagram) and client
 * certificates are not possible on Deno's QUIC and are config errors. QUIC needs its own UDP
 * socket, so it cannot be a later hop of a chain.
 * @module
 */
import { X509Certificate } from "node:crypto";
import { isIPv4, isIPv6, splitHostPort } from "../core/addr.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import { readTlsFiles, tlsClientOptions } from "../core/tls/config.ts";
import type { DialContext, Dialer } from "../core/types.ts";
import { addrOf, QUIC_ALPN, QuicClientSession } from "../protocol/quic/session.ts";
import { MuxDialer, type StreamSession } from "./mux.ts";
import type { DialerFactory, DialerInit } from "./registry.ts";

/** quic-go's defaults, which gost keeps when an option is 0. */
export const QUIC_DEFAULTS = {
  keepAlivePeriod: 10_000,
  handshakeTimeout: 5_000,
  maxIdleTimeout: 30_000,
  maxStreams: 100,
};

/** The QUIC transport options both sides read (gost's names). */
export const quicTransportOptions = {
  ttl: opt.duration("ttl", QUIC_DEFAULTS.keepAlivePeriod),
  handshakeTimeout: opt.duration("handshakeTimeout", QUIC_DEFAULTS.handshakeTimeout),
  maxIdleTimeout: opt.duration("maxIdleTimeout", QUIC_DEFAULTS.maxIdleTimeout),
  maxStreams: opt.int("maxStreams", QUIC_DEFAULTS.maxStreams, { min: 0 }),
  cipherKey: opt.string("cipherKey", ""),
  enableDatagram: opt.ignored(
    ["enableDatagram", "quic.enableDatagram"],
    "every tunnel rides QUIC streams; gost offers datagrams only to its own UDP-over-QUIC",
  ),
};

export const quicDialerOptions = defineOptions({
  ...tlsClientOptions,
  ...quicTransportOptions,
  keepAlive: opt.bool(["keepAlive", "keepalive"], true),
});

type QuicDialOpts = Options<typeof quicDialerOptions["schema"]>;

/** A zero (or negative) value means quic-go's default, as in gost. */
export function orDefault(v: number, def: number): number {
  return v > 0 ? v : def;
}

/** Refuses what Deno's QUIC cannot do, naming the option. */
export function refuseCipherKey(path: string, opts: { cipherKey: string }): void {
  if (opts.cipherKey) {
    throw new ConfigError(
      `${path}.metadata.cipherKey`,
      "quic: cipherKey (gost's AES-GCM wrapping of every datagram) is not possible on Deno's QUIC",
    );
  }
}

/** What the connections of one dialer are opened with. */
interface QuicClientConfig {
  secure: boolean;
  serverName: string;
  caCerts?: string[];
  /** A name the pinned certificate holds, used as server name when verification is off. */
  pinnedName?: string;
  transport: Deno.QuicTransportOptions;
  handshakeTimeout: number;
}

/** The first DNS name (else the common name) of a PEM certificate. */
function certName(pem: string): string | undefined {
  try {
    const cert = new X509Certificate(pem);
    const dns = cert.subjectAltName?.split(",").map((s) => s.trim()).find((s) => s.startsWith("DNS:"));
    if (dns) return dns.slice(4);
    return /CN=([^\n,]+)/.exec(cert.subject)?.[1];
  } catch {
    return undefined;
  }
}

function clientConfig(init: DialerInit, opts: QuicDialOpts): QuicClientConfig {
  refuseCipherKey(init.path, opts);
  const material = readTlsFiles(init.tls, opts, init.path);
  if (material.pair) {
    throw new ConfigError(
      `${init.path}.${init.tls?.certFile ? "tls" : "metadata"}.certFile`,
      "quic: a client certificate is not possible on Deno's QUIC",
    );
  }
  const secure = init.tls?.secure ?? opts.secure;
  let ca = material.ca;
  if (!ca && !secure) {
    try {
      ca = Deno.readTextFileSync("cert.pem");
    } catch {
      // none: only publicly trusted servers can be reached
    }
  }
  return {
    secure,
    serverName: init.tls?.serverName || opts.serverName,
    caCerts: ca ? [ca] : undefined,
    pinnedName: ca && !secure ? certName(ca) : undefined,
    transport: {
      keepAliveInterval: opts.keepAlive ? orDefault(opts.ttl, QUIC_DEFAULTS.keepAlivePeriod) : undefined,
      maxIdleTimeout: orDefault(opts.maxIdleTimeout, QUIC_DEFAULTS.maxIdleTimeout),
      maxConcurrentBidirectionalStreams: orDefault(opts.maxStreams, QUIC_DEFAULTS.maxStreams),
    },
    handshakeTimeout: orDefault(opts.handshakeTimeout, QUIC_DEFAULTS.handshakeTimeout),
  };
}

/** Stands for the channel a QUIC connection does not have: inside a chain's stream it refuses. */
const noChannel: Dialer = {
  dial: () => Promise.reject(new Error("quic: no channel")),
  handshake: (_conn, addr) =>
    Promise.reject(
      new Error(
        `quic to ${addr}: QUIC needs its own UDP path to the node, so it can only be the first hop of a chain`,
      ),
    ),
};

/** The quic dialer: {@link MuxDialer} whose sessions are QUIC connections. */
export class QuicDialer extends MuxDialer {
  constructor(readonly cfg: QuicClientConfig) {
    super(noChannel, () => {
      throw new Error("quic: no channel");
    }, cfg.handshakeTimeout);
  }

  protected override async connect(addr: string, _ctx: DialContext): Promise<StreamSession> {
    const { host, port } = splitHostPort(addr);
    const cfg = this.cfg;
    // Without verification the host name is not checked either: ask for a name the pinned
    // certificate holds (an IP address node usually is not one).
    const serverName = cfg.serverName || (cfg.secure ? host : cfg.pinnedName ?? host);
    // One UDP endpoint per connection, closed with it (connectQuic's own would stay open).
    const endpoint = new Deno.QuicEndpoint({ hostname: isIPv6(host) ? "::" : "0.0.0.0", port: 0 });
    const hostname = isIPv4(host) || isIPv6(host) ? host : (await resolve(host)) ?? host;
    const connecting = Deno.connectQuic<false>({
      hostname,
      port,
      serverName,
      alpnProtocols: QUIC_ALPN,
      caCerts: cfg.caCerts,
      endpoint,
      ...cfg.transport,
    });
    let timedOut = false;
    try {
      const conn = await deadline(connecting, cfg.handshakeTimeout, `quic handshake with ${addr}`, () => {
        timedOut = true;
        connecting.then((c) => c.close(), () => {}).finally(() => endpoint.close());
      });
      return new QuicClientSession(conn, addrOf(endpoint.addr), () => endpoint.close());
    } catch (err) {
      if (!timedOut) endpoint.close();
      throw explain(err, cfg.secure);
    }
  }
}

/** The first IPv4 address of a name (the endpoint is IPv4), else null. */
async function resolve(host: string): Promise<string | null> {
  try {
    return (await Deno.resolveDns(host, "A"))[0] ?? null;
  } catch {
    return null;
  }
}

/** Says why an unverifiable server was refused and what to do about it. */
function explain(err: unknown, secure: boolean): Error {
  const msg = errorMessage(err);
  if (!secure && /UnknownIssuer|invalid peer certificate|NotValidForName/.test(msg)) {
    return new Error(
      `${msg} (Deno's QUIC cannot skip certificate verification as gost's client does: pin the server's ` +
        `certificate with caFile, or put it in cert.pem of the working directory)`,
      { cause: err },
    );
  }
  return err instanceof Error ? err : new Error(msg);
}

export const quicDialer: DialerFactory = {
  options: quicDialerOptions,
  create: (init, opts) => new QuicDialer(clientConfig(init, opts)),
};
