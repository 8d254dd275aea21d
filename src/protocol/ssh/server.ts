/**
 * The server side of SSH port forwarding over any duplex: authenticates a client (password
 * or `authorized_keys`), then turns what it asks for into work items for a handler —
 * {@link SshChannelConn} per `direct-tcpip` channel (`ssh -L`, `ssh -D`) and
 * {@link SshForwardRequest} per `tcpip-forward` request (`ssh -R`). Every other channel
 * type is refused (UNKNOWN_CHANNEL_TYPE, or ADMINISTRATIVELY_PROHIBITED for sessions).
 * @module
 */
import { joinHostPort, splitHostPort } from "../../core/addr.ts";
import { type DirectIO, type Duplex, IODuplex } from "../../core/duplex.ts";
import type { Logger } from "../../core/log.ts";
import { findAuthorizedKey, type OfferedKey, safeEqual } from "./keys.ts";
import { ALGORITHMS, type Channel, type ParsedKey, Server } from "./ssh2.ts";
import { toNodeStream } from "../../core/node_stream.ts";
import { nodeStreamIO } from "./stream.ts";

/** Who may log in and with which host key. */
export interface SshServerConfig {
  hostKey: ParsedKey;
  /** Password login: both set, or neither. */
  username?: string;
  password?: string;
  /** Checks user name and password instead of `username`/`password` (the listener's authers). */
  checkPassword?: (username: string, password: string) => boolean;
  /** Public keys allowed to log in (any user name). */
  authorizedKeys: ParsedKey[];
  /** Time allowed from connect to successful authentication (ms). */
  handshakeTimeout: number;
  log: Logger;
}

/**
 * A `direct-tcpip` channel request: the client wants a stream to {@link dst}. The channel
 * is confirmed by {@link open} once the handler has reached the destination, or refused
 * (CONNECT_FAILED) by {@link refuse} or `close()` — so `ssh -L` reports a failed open
 * instead of a channel that closes at once.
 */
export class SshChannelConn implements Duplex {
  #inner?: IODuplex;
  #done = false;

  constructor(
    private readonly acceptChannel: () => Channel | undefined,
    private readonly rejectChannel: () => void,
    readonly local: string,
    readonly remote: string,
    /** Where the client wants this stream to go (`host:port`). */
    readonly dst: string,
    /** The authenticated user. */
    readonly user: string,
  ) {}

  /** Confirms the channel; the returned duplex carries its bytes. */
  open(): IODuplex {
    if (this.#inner) return this.#inner;
    if (this.#done) throw new Error("ssh channel already refused or closed");
    const ch = this.acceptChannel();
    if (!ch) throw new Error("ssh connection closed before the channel was confirmed");
    (ch as unknown as { on(e: string, f: () => void): void }).on("error", () => {});
    this.#inner = new IODuplex(nodeStreamIO(ch), () => ch.destroy(), this.local, this.remote);
    return this.#inner;
  }

  /** Refuses the channel (the client sees "connect failed"). */
  refuse(): void {
    if (this.#inner || this.#done) return;
    this.#done = true;
    this.rejectChannel();
  }

  get direct(): DirectIO | undefined {
    return this.#inner?.direct;
  }
  get readable(): ReadableStream<Uint8Array> {
    return this.open().readable;
  }
  get writable(): WritableStream<Uint8Array> {
    return this.open().writable;
  }

  close(): void {
    if (this.#inner) this.#inner.close();
    else this.refuse();
    this.#done = true;
  }
}

/** Empty streams for the request pseudo-connection, which carries no bytes itself. */
function emptyStreams() {
  return {
    readable: new ReadableStream<Uint8Array>({ start: (c) => c.close() }),
    writable: new WritableStream<Uint8Array>(),
  };
}

/**
 * A `tcpip-forward` request: the client asks us to listen on {@link bindAddr} and to open
 * a `forwarded-tcpip` channel back to it for every inbound connection. It stays "connected"
 * for as long as the forward lasts: until the client cancels it, its SSH connection ends,
 * or `close()`.
 */
export class SshForwardRequest implements Duplex {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly #ended = Promise.withResolvers<void>();
  #replied = false;
  #closed = false;

  constructor(
    readonly local: string,
    readonly remote: string,
    /** The address asked for, as the client sent it (`host:port`, host may be empty). */
    readonly bindHost: string,
    readonly bindPort: number,
    readonly user: string,
    // deno-lint-ignore no-explicit-any
    readonly client: any,
    private readonly replyAccept: ((port?: number) => void) | undefined,
    private readonly replyReject: (() => void) | undefined,
  ) {
    ({ readable: this.readable, writable: this.writable } = emptyStreams());
  }

  get bindAddr(): string {
    return joinHostPort(this.bindHost, this.bindPort);
  }

  /** Resolves when the forward ends. */
  get ended(): Promise<void> {
    return this.#ended.promise;
  }

  /** Tells the client the forward is in place (with the port chosen when it asked for 0). */
  accept(port: number): void {
    if (this.#replied) return;
    this.#replied = true;
    this.replyAccept?.(port);
  }

  /** Tells the client the forward could not be set up. */
  reject(): void {
    if (this.#replied) return;
    this.#replied = true;
    this.replyReject?.();
  }

  /** Opens a `forwarded-tcpip` channel for an inbound connection from `peer`. */
  openForwarded(boundPort: number, peer: string): Promise<Duplex> {
    if (this.#closed) return Promise.reject(new Error("the forward has ended"));
    const { host, port } = splitHostPort(peer);
    return new Promise((resolve, reject) => {
      try {
        // The bound address echoes the request exactly: clients match forwards by it.
        this.client.forwardOut(
          this.bindHost,
          boundPort || this.bindPort,
          host,
          port,
          (err: Error, ch: Channel) => {
            if (err) reject(new Error(`ssh client refused the forwarded channel: ${err.message}`));
            else resolve(new IODuplex(nodeStreamIO(ch), () => ch.destroy(), this.bindAddr, peer));
          },
        );
      } catch (err) {
        reject(err);
      }
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.reject();
    this.#ended.resolve();
  }
}

/** Shows the start of what a non-SSH client sent, printable. */
function excerpt(b: Uint8Array): string {
  const s = new TextDecoder().decode(b.subarray(0, 40)).replace(/[^\x20-\x7e]/g, ".");
  return JSON.stringify(s);
}

/**
 * Serves one SSH connection over `conn`. `deliver` receives each channel and forward
 * request; it returns false when it cannot take more (the item is then refused).
 * Resolves when the connection ends.
 */
export function serveSsh(
  conn: Duplex,
  cfg: SshServerConfig,
  deliver: (item: SshChannelConn | SshForwardRequest) => boolean,
): Promise<void> {
  const log = cfg.log;
  const done = Promise.withResolvers<void>();
  let firstBytes: Uint8Array | undefined;
  const sock = toNodeStream(conn, { onFirstChunk: (chunk) => firstBytes = chunk.slice(0, 64) });
  const { host, port } = conn.remote ? splitHostPort(conn.remote) : { host: "", port: 0 };
  Object.assign(sock, {
    remoteAddress: host,
    remotePort: port,
    remoteFamily: host.includes(":") ? "IPv6" : "IPv4",
  });
  let authenticated = false;
  let user = "";
  let lastError: string | undefined;
  const forwards = new Map<string, SshForwardRequest>();

  const timer = setTimeout(() => {
    if (authenticated) return;
    log.warn(`ssh ${conn.remote}: no successful login within ${cfg.handshakeTimeout} ms, closing`);
    sock.destroy();
    conn.close();
  }, cfg.handshakeTimeout);

  // deno-lint-ignore no-explicit-any
  const server = new Server({ hostKeys: [{ key: cfg.hostKey }], algorithms: ALGORITHMS }, (client: any) => {
    // Kept for the connection's whole life: ssh2 re-emits transport errors here.
    client.on("error", (err: Error) => {
      lastError = err.message;
    });
    client.on("authentication", (ctx: AuthContext) => authenticate(ctx, cfg, log, conn.remote));
    client.on("ready", () => {
      authenticated = true;
      clearTimeout(timer);
    });
    client.on("close", () => {
      for (const f of forwards.values()) f.close();
      forwards.clear();
    });
    client.on(
      "tcpip",
      (
        accept: () => Channel,
        reject: () => void,
        info: { destIP: string; destPort: number; srcIP: string; srcPort: number },
      ) => {
        const dst = joinHostPort(info.destIP, info.destPort);
        if (!authenticated) return reject();
        const item = new SshChannelConn(accept, reject, conn.local, conn.remote, dst, user);
        if (!deliver(item)) {
          log.warn(`ssh ${conn.remote}: too many pending channels, refusing one to ${dst}`);
          item.close();
        }
      },
    );
    client.on(
      "request",
      (
        accept: ((port?: number) => void) | undefined,
        reject: (() => void) | undefined,
        name: string,
        info: { bindAddr: string; bindPort: number },
      ) => {
        const key = joinHostPort(info.bindAddr, info.bindPort);
        if (name === "tcpip-forward") {
          if (forwards.has(key)) return reject?.();
          const req = new SshForwardRequest(
            conn.local,
            conn.remote,
            info.bindAddr,
            info.bindPort,
            user,
            client,
            accept,
            reject,
          );
          forwards.set(key, req);
          req.ended.then(() => {
            if (forwards.get(key) === req) forwards.delete(key);
          });
          if (!deliver(req)) req.close();
        } else if (name === "cancel-tcpip-forward") {
          const req = forwards.get(key);
          if (!req) return reject?.();
          req.close();
          accept?.();
        } else reject?.();
      },
    );
  });

  const onUser = (u: string) => user = u;
  function authenticate(ctx: AuthContext, cfg: SshServerConfig, log: Logger, remote: string) {
    const methods: string[] = [];
    if (cfg.password !== undefined || cfg.checkPassword) methods.push("password");
    if (cfg.authorizedKeys.length) methods.push("publickey");
    const open = methods.length === 0;
    if (open) {
      onUser(ctx.username);
      return ctx.accept();
    }
    switch (ctx.method) {
      case "password":
        if (
          cfg.checkPassword
            ? cfg.checkPassword(ctx.username, ctx.password ?? "")
            : cfg.password !== undefined && safeEqual(ctx.username, cfg.username ?? "") &&
              safeEqual(ctx.password ?? "", cfg.password)
        ) {
          onUser(ctx.username);
          return ctx.accept();
        }
        log.warn(`ssh ${remote}: wrong user name or password for ${JSON.stringify(ctx.username)}`);
        return ctx.reject(methods);
      case "publickey": {
        const key = ctx.key && findAuthorizedKey(cfg.authorizedKeys, ctx.key);
        if (!key) {
          log.debug(`ssh ${remote}: public key of ${JSON.stringify(ctx.username)} is not authorized`);
          return ctx.reject(methods);
        }
        // Without a signature the client only asks whether the key would do.
        if (!ctx.signature) return ctx.accept();
        if (key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) {
          log.warn(`ssh ${remote}: bad public key signature for ${JSON.stringify(ctx.username)}`);
          return ctx.reject(methods);
        }
        onUser(ctx.username);
        return ctx.accept();
      }
      default:
        return ctx.reject(methods);
    }
  }

  // Once SSH has said its last word (a disconnect, or an answer to a bad banner) the
  // connection is over: do not wait for the peer to hang up.
  sock.once("finish", () => sock.destroy());
  sock.once("close", () => {
    clearTimeout(timer);
    if (!authenticated) {
      if (firstBytes && !new TextDecoder().decode(firstBytes.subarray(0, 4)).startsWith("SSH-")) {
        log.warn(`ssh ${conn.remote}: not an SSH client (bad banner ${excerpt(firstBytes)}), closed`);
      } else if (lastError) {
        log.warn(`ssh ${conn.remote}: closed before login: ${lastError}`);
      } else if (firstBytes) {
        log.warn(`ssh ${conn.remote}: closed before a successful login`);
      }
    }
    conn.close();
    done.resolve();
  });
  server.injectSocket(sock);
  return done.promise;
}

/** What ssh2 hands an `authentication` listener. */
interface AuthContext {
  method: string;
  username: string;
  password?: string;
  key?: OfferedKey;
  signature?: Uint8Array;
  blob?: Uint8Array;
  hashAlgo?: string;
  accept(): void;
  reject(methods?: string[], partial?: boolean): void;
}
