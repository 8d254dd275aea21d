/**
 * An SSH client connection over any duplex, and what a chain does with it: open
 * `direct-tcpip` channels (local forwarding) and ask for `tcpip-forward` (remote
 * forwarding), many channels sharing the one connection.
 * @module
 */
import { joinHostPort, splitHostPort } from "../../core/addr.ts";
import { AcceptQueue } from "../../core/accept_queue.ts";
import type { Duplex } from "../../core/duplex.ts";
import type { Listener } from "../../core/types.ts";
import { ALGORITHMS, type Channel, Client } from "./ssh2.ts";
import { toNodeStream } from "../../core/node_stream.ts";
import { channelDuplex } from "./stream.ts";

/** How to log in and keep the connection alive. */
export interface SshClientOptions {
  username: string;
  password?: string;
  /** Private key text (OpenSSH or PEM). */
  privateKey?: string;
  passphrase?: string;
  /** Time allowed for the SSH handshake and authentication (ms). */
  handshakeTimeout: number;
  /** Interval of keepalive pings (ms); 0 disables them. */
  keepaliveInterval: number;
  /** Unanswered pings before the connection is declared dead. */
  keepaliveCountMax: number;
}

/** Inbound connections a remote forward may queue before new ones are refused. */
const FORWARD_BACKLOG = 128;

/** Why an SSH connection failed, in words a user can act on. */
function describe(err: unknown): string {
  const e = err as { message?: string; level?: string };
  const msg = e?.message ?? String(err);
  if (e?.level === "client-authentication") {
    return `authentication failed (all configured methods were rejected): ${msg}`;
  }
  if (e?.level === "client-timeout") return `handshake timed out: ${msg}`;
  return msg;
}

/** One authenticated SSH client connection. */
export class SshClientSession {
  // deno-lint-ignore no-explicit-any
  readonly #client: any;
  readonly #forwards = new Map<string, RemoteForwardListener>();
  #closed = false;
  readonly #done = Promise.withResolvers<void>();
  /** The error that ended the connection, if one did. */
  error?: string;

  // deno-lint-ignore no-explicit-any
  private constructor(client: any, readonly local: string, readonly remote: string) {
    this.#client = client;
    client.on("close", () => this.#onClose());
    client.on("error", (err: unknown) => {
      this.error ??= describe(err);
    });
    client.on(
      "tcp connection",
      (
        info: { destIP: string; destPort: number; srcIP: string; srcPort: number },
        accept: () => Channel,
        reject: () => void,
      ) => {
        const l = this.#forwards.get(joinHostPort(info.destIP, info.destPort));
        if (!l || !l.offer(info, accept)) reject();
      },
    );
  }

  /** Runs the SSH handshake and authentication over `conn`. */
  static connect(conn: Duplex, opts: SshClientOptions): Promise<SshClientSession> {
    const client = new Client();
    // ssh2 re-emits transport errors on the client: keep a listener for its whole life.
    client.on("error", () => {});
    const sock = toNodeStream(conn);
    sock.once("finish", () => sock.destroy());
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        client.end();
        conn.close();
        reject(new Error(`ssh: ${describe(err)}`));
      };
      client.once("error", fail);
      client.once("close", () => fail(new Error("connection closed during the SSH handshake")));
      client.once("ready", () => {
        if (settled) return;
        settled = true;
        client.removeListener("error", fail);
        resolve(new SshClientSession(client, conn.local, conn.remote));
      });
      client.connect({
        sock,
        username: opts.username,
        password: opts.password,
        privateKey: opts.privateKey,
        passphrase: opts.passphrase,
        tryKeyboard: opts.password !== undefined,
        readyTimeout: opts.handshakeTimeout,
        keepaliveInterval: opts.keepaliveInterval,
        keepaliveCountMax: opts.keepaliveCountMax,
        algorithms: ALGORITHMS,
        // gost's sshd dialer does not verify host keys either; the node is named by the user.
        hostVerifier: () => true,
      });
      if (opts.password !== undefined) {
        client.on(
          "keyboard-interactive",
          (_n: string, _i: string, _l: string, prompts: unknown[], finish: (a: string[]) => void) => {
            finish(prompts.map(() => opts.password!));
          },
        );
      }
    });
  }

  /** True until the connection ends. */
  get alive(): boolean {
    return !this.#closed;
  }

  /** Resolves when the connection ends. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** Opens a `direct-tcpip` channel to `addr` (`host:port`). */
  forwardOut(addr: string): Promise<Duplex> {
    const { host, port } = splitHostPort(addr);
    if (this.#closed) return Promise.reject(new Error(`ssh connection to ${this.remote} is closed`));
    return new Promise((resolve, reject) => {
      try {
        this.#client.forwardOut("127.0.0.1", 0, host || "127.0.0.1", port, (err: Error, ch: Channel) => {
          if (err) {
            reject(new Error(`ssh: the server refused to open a channel to ${addr}: ${err.message}`));
          } else resolve(channelDuplex(ch, this.local, addr));
        });
      } catch (err) {
        reject(new Error(`ssh: ${(err as Error).message}`));
      }
    });
  }

  /**
   * Asks the server to listen on `addr` (`tcpip-forward`); inbound connections arrive on the
   * returned listener, which yields null once this connection ends.
   */
  forwardIn(addr: string): Promise<Listener> {
    const { host, port } = splitHostPort(addr);
    const bindHost = host || "0.0.0.0";
    if (this.#closed) return Promise.reject(new Error(`ssh connection to ${this.remote} is closed`));
    return new Promise((resolve, reject) => {
      try {
        this.#client.forwardIn(bindHost, port, (err: Error | undefined, realPort: number) => {
          if (err) {
            reject(new Error(`ssh: the server refused to listen on ${joinHostPort(bindHost, port)}`));
            return;
          }
          // ssh2 names the forward by the port asked for; inbound channels carry that one.
          const key = joinHostPort(bindHost, port === 0 ? realPort : port);
          const l = new RemoteForwardListener(this, bindHost, port, joinHostPort(bindHost, realPort));
          this.#forwards.set(key, l);
          if (port === 0) this.#forwards.set(joinHostPort(bindHost, 0), l);
          resolve(l);
        });
      } catch (err) {
        reject(new Error(`ssh: ${(err as Error).message}`));
      }
    });
  }

  /** @internal Cancels a remote forward. */
  unforward(l: RemoteForwardListener): void {
    for (const [k, v] of this.#forwards) if (v === l) this.#forwards.delete(k);
    if (this.#closed) return;
    try {
      this.#client.unforwardIn(l.bindHost, l.bindPort);
    } catch {
      // the connection is going away; its forwards go with it
    }
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of [...this.#forwards.values()]) l.end();
    this.#forwards.clear();
    this.#done.resolve();
  }

  close(): void {
    try {
      this.#client.end();
    } catch {
      // already gone
    }
    this.#onClose();
  }
}

/** Inbound connections of one remote forward, as a {@link Listener}. */
class RemoteForwardListener implements Listener {
  readonly #accepted = new AcceptQueue<Duplex>(FORWARD_BACKLOG);

  constructor(
    readonly session: SshClientSession,
    readonly bindHost: string,
    readonly bindPort: number,
    readonly addr: string,
  ) {}

  listen(): Promise<void> {
    return Promise.resolve();
  }

  /** Takes an inbound channel unless the queue is full or the forward is closed. */
  offer(info: { srcIP: string; srcPort: number }, accept: () => Channel): boolean {
    if (this.#accepted.full) return false;
    return this.#accepted.offer(channelDuplex(accept(), this.addr, joinHostPort(info.srcIP, info.srcPort)));
  }

  accept(): Promise<Duplex | null> {
    return this.#accepted.next();
  }

  /** @internal The connection ended: wake every waiting accept with null. */
  end(): void {
    this.#accepted.close();
  }

  close(): void {
    if (this.#accepted.closed) return;
    this.end();
    this.session.unforward(this);
  }
}

/**
 * What the `sshd` dialer hands the `sshd` connector: a shared {@link SshClientSession}.
 * It carries no bytes itself; closing it leaves the shared connection up.
 */
export class SshSessionHandle implements Duplex {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  constructor(readonly session: SshClientSession) {
    const misuse = () =>
      new Error("an sshd node carries channels, not bytes: pair the sshd dialer with the sshd connector");
    this.readable = new ReadableStream({ start: (c) => c.error(misuse()) });
    this.writable = new WritableStream({ start: (c) => c.error(misuse()) });
  }
  get local(): string {
    return this.session.local;
  }
  get remote(): string {
    return this.session.remote;
  }
  close(): void {}
}
