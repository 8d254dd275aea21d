/**
 * The `sshd` listener: a standard SSH server for port forwarding. Each accepted TCP
 * connection runs SSH (password from the listener's auth and/or `authorizedKeys`); what
 * a client asks for comes out of `accept()` for the `sshd` handler: one
 * {@link SshChannelConn} per `direct-tcpip` channel (`ssh -L`, `ssh -D`) and one
 * {@link SshForwardRequest} per `tcpip-forward` request (`ssh -R`).
 * @module
 */
import { AcceptQueue } from "../core/accept_queue.ts";
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import type { Listener } from "../core/types.ts";
import { loadAuthorizedKeys, loadPrivateKey } from "../protocol/ssh/keys.ts";
import { readEach } from "../core/files.ts";
import {
  serveSsh,
  type SshChannelConn,
  type SshForwardRequest,
  type SshServerConfig,
} from "../protocol/ssh/server.ts";
import { generateHostKey, type ParsedKey, parseKey } from "../protocol/ssh/ssh2.ts";
import type { ListenerInit } from "./registry.ts";
import { TcpListener } from "./tcp.ts";

export const sshdListenerOptions = defineOptions({
  backlog: opt.int("backlog", 128, { min: 1, max: 65536 }),
  privateKeyFile: opt.string(["privateKeyFile", "privateKey"], ""),
  passphrase: opt.string("passphrase", ""),
  authorizedKeys: opt.string("authorizedKeys", ""),
  handshakeTimeout: opt.duration(["handshakeTimeout", "readTimeout"], 15_000),
  reusePort: opt.bool(["reuseport", "reusePort", "so_reuseport"], false),
});

type SshdListenerOptions = Options<typeof sshdListenerOptions.schema>;

/** The host key: `privateKeyFile`, else the TLS key file (as gost does), else a fresh one. */
function hostKeyOf(init: ListenerInit, o: SshdListenerOptions, log: Logger): ParsedKey {
  if (o.privateKeyFile) {
    return loadPrivateKey(o.privateKeyFile, o.passphrase, `${init.path}.metadata.privateKeyFile`).key;
  }
  if (init.tls?.keyFile) {
    return loadPrivateKey(init.tls.keyFile, o.passphrase, `${init.path}.tls.keyFile`).key;
  }
  const pair = generateHostKey();
  log.info("sshd: no privateKeyFile given, generated an ed25519 host key for this run");
  return parseKey(pair.private);
}

/** Accepts SSH clients and yields their forwarding requests. */
export class SshdListener implements Listener {
  readonly #tcp: TcpListener;
  readonly #cfg: SshServerConfig;
  readonly #accepted: AcceptQueue<Duplex>;
  #clients = new Set<Duplex>();
  #closed = false;
  #admit?: (remote: string) => boolean;

  constructor(addr: string, cfg: SshServerConfig, readonly backlog: number, reusePort = false) {
    this.#tcp = new TcpListener(addr, { reusePort, log: cfg.log });
    this.#cfg = cfg;
    this.#accepted = new AcceptQueue(backlog);
  }

  get addr(): string {
    return this.#tcp.addr;
  }

  /** The service's admission, asked before the SSH handshake. */
  gate(admit: (remote: string) => boolean): void {
    this.#admit = admit;
  }

  async listen(): Promise<void> {
    await this.#tcp.listen();
    this.#acceptLoop();
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      const conn = await this.#tcp.accept();
      if (!conn) break;
      if (this.#admit && !this.#admit(conn.remote)) {
        conn.close();
        continue;
      }
      this.#clients.add(conn);
      serveSsh(conn, this.#cfg, (item) => this.#deliver(item))
        .catch((err) => this.#cfg.log.warn(`ssh ${conn.remote}: ${errorMessage(err)}`))
        .finally(() => this.#clients.delete(conn));
    }
  }

  #deliver(item: SshChannelConn | SshForwardRequest): boolean {
    return this.#accepted.offer(item);
  }

  accept(): Promise<Duplex | null> {
    return this.#accepted.next();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tcp.close();
    this.#accepted.close();
    for (const c of this.#clients) c.close();
  }
}

/** Builds an sshd listener; unreadable key files are configuration errors. */
export function createSshdListener(init: ListenerInit, o: SshdListenerOptions): SshdListener {
  const [hostKey, authorizedKeys] = readEach(
    () => hostKeyOf(init, o, init.log),
    () =>
      o.authorizedKeys ? loadAuthorizedKeys(o.authorizedKeys, `${init.path}.metadata.authorizedKeys`) : [],
  );
  const cfg: SshServerConfig = {
    hostKey,
    username: init.auth?.username,
    password: init.auth?.username !== undefined || init.auth?.password !== undefined
      ? (init.auth?.password ?? "")
      : undefined,
    checkPassword: init.auther ? (u, p) => init.auther!.check(u, p) : undefined,
    authorizedKeys,
    handshakeTimeout: o.handshakeTimeout,
    log: init.log,
  };
  if (cfg.password === undefined && !cfg.checkPassword && cfg.authorizedKeys.length === 0) {
    init.log.warn("sshd: no auth and no authorizedKeys configured: any SSH client may log in");
  }
  return new SshdListener(init.addr, cfg, o.backlog, o.reusePort);
}
