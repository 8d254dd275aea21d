/**
 * The `quic` listener: QUIC connections (ALPN `h3`, `quic/v1`) whose bidirectional streams are
 * the accepted connections. Certificate as for the TLS listeners (the `tls` block or
 * `certFile`/`keyFile`, else `cert.pem`/`key.pem` of the working directory, else a generated
 * one). Options as gost's: `keepAlive` (off unless set; then every `ttl`, 10 s),
 * `handshakeTimeout` (5 s), `maxIdleTimeout` (30 s), `maxStreams` (100), `backlog` (128).
 * `cipherKey` and client certificate checks (`caFile`) are not possible on Deno's QUIC.
 * @module
 */
import { joinHostPort, splitHostPort } from "../core/addr.ts";
import { AcceptQueue } from "../core/accept_queue.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import { defaultServerPair, readTlsFiles, tlsFileOptions, type TlsMaterial } from "../core/tls/config.ts";
import { ListenError } from "../core/types.ts";
import { orDefault, QUIC_DEFAULTS, quicTransportOptions, refuseCipherKey } from "../dialer/quic.ts";
import { QUIC_ALPN, QuicServerSession } from "../protocol/quic/session.ts";
import { type ChannelListener, MuxListener } from "./mux.ts";
import type { ListenerFactory, ListenerInit } from "./registry.ts";

export const quicListenerOptions = defineOptions({
  ...tlsFileOptions,
  ...quicTransportOptions,
  keepAlive: opt.bool(["keepAlive", "keepalive"], false),
  backlog: opt.int("backlog", 128, { min: 1 }),
});

type QuicListenOpts = Options<typeof quicListenerOptions["schema"]>;

/** Binds the UDP port and yields each QUIC connection once its handshake is done. */
export class QuicConnListener implements ChannelListener<QuicServerSession> {
  #endpoint?: Deno.QuicEndpoint;
  #listener?: Deno.QuicListener;
  #addr = "";
  readonly #queue: AcceptQueue<QuicServerSession>;
  readonly #handshakeTimeout: number;

  constructor(
    readonly configuredAddr: string,
    readonly material: TlsMaterial,
    readonly opts: QuicListenOpts,
    readonly log: Logger,
  ) {
    this.#queue = new AcceptQueue(opts.backlog);
    this.#handshakeTimeout = orDefault(opts.handshakeTimeout, QUIC_DEFAULTS.handshakeTimeout);
  }

  get addr(): string {
    return this.#addr;
  }

  async listen(): Promise<void> {
    const pair = this.material.pair ?? await defaultServerPair();
    const { host, port } = splitHostPort(this.configuredAddr);
    try {
      this.#endpoint = new Deno.QuicEndpoint({ hostname: host || "::", port });
      this.#listener = this.#endpoint.listen({
        alpnProtocols: QUIC_ALPN,
        cert: pair.cert,
        key: pair.key,
        keepAliveInterval: this.opts.keepAlive
          ? orDefault(this.opts.ttl, QUIC_DEFAULTS.keepAlivePeriod)
          : undefined,
        maxIdleTimeout: orDefault(this.opts.maxIdleTimeout, QUIC_DEFAULTS.maxIdleTimeout),
        maxConcurrentBidirectionalStreams: orDefault(this.opts.maxStreams, QUIC_DEFAULTS.maxStreams),
      });
    } catch (err) {
      this.#endpoint?.close();
      throw new ListenError(this.configuredAddr, err);
    }
    const a = this.#endpoint.addr;
    this.#addr = joinHostPort(host || a.hostname, a.port);
    this.#incoming();
  }

  accept(): Promise<QuicServerSession | null> {
    return this.#queue.next();
  }

  close(): void {
    this.#queue.close();
    try {
      this.#listener?.stop();
      this.#endpoint?.close();
    } catch {
      // already closed
    }
  }

  async #incoming(): Promise<void> {
    const listener = this.#listener!;
    for (;;) {
      let incoming: Deno.QuicIncoming;
      try {
        incoming = await listener.incoming();
      } catch {
        break;
      }
      this.#handshake(incoming);
    }
    this.close();
  }

  /** Each handshake on its own, under the deadline, so a silent client holds up nobody. */
  async #handshake(incoming: Deno.QuicIncoming): Promise<void> {
    // Deno 2.9 invalidates an incoming connection whose `remoteAddr` is read before `accept()`:
    // the peer's address is only known from the connection.
    if (this.#queue.full) {
      incoming.refuse();
      this.log.warn("quic: backlog full: a new connection was refused");
      return;
    }
    const accepting = incoming.accept<false>();
    try {
      const conn = await deadline(accepting, this.#handshakeTimeout, "quic handshake", () => {
        accepting.then((c) => c.close(), () => {});
      });
      const session = new QuicServerSession(conn, this.#addr);
      if (!this.#queue.offer(session)) session.close();
    } catch (err) {
      this.log.info(`quic: ${errorMessage(err)}`);
    }
  }
}

function createQuicListener(init: ListenerInit, opts: QuicListenOpts): MuxListener<QuicServerSession> {
  refuseCipherKey(init.path, opts);
  const material = readTlsFiles(init.tls, opts, init.path);
  if (material.ca) {
    throw new ConfigError(
      `${init.path}.${init.tls?.caFile ? "tls" : "metadata"}.caFile`,
      "quic: client certificates cannot be required (Deno's QUIC server does not ask for them)",
    );
  }
  return new MuxListener(
    new QuicConnListener(init.addr, material, opts, init.log),
    (session) => session,
    opts.backlog,
    init.log,
  );
}

export const quicListener: ListenerFactory = {
  options: quicListenerOptions,
  create: createQuicListener,
};
