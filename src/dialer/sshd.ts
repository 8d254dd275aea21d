/**
 * The `sshd` dialer: one SSH connection per node (OpenSSH or gost's sshd), shared by every
 * channel the `sshd` connector opens over it. Authenticates with the node's user name and
 * password and/or `privateKeyFile` (+ `passphrase`); keepalive pings find a dead
 * connection so the next dial makes a fresh one.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import type { DialContext, Dialer } from "../core/types.ts";
import { type SshClientOptions, SshClientSession, SshSessionHandle } from "../protocol/ssh/client.ts";
import { loadPrivateKey } from "../protocol/ssh/keys.ts";
import { DEFAULT_DIAL_TIMEOUT, dialTCP } from "./tcp.ts";
import type { DialerFactory } from "./registry.ts";

export const sshdDialerOptions = defineOptions({
  handshakeTimeout: opt.duration("handshakeTimeout", 15_000),
  dialTimeout: opt.duration(["dialTimeout", "timeout"], DEFAULT_DIAL_TIMEOUT),
  /** On by default (gost: off): a silently dead SSH connection would stall every channel. */
  keepAlive: opt.bool(["keepalive", "keepAlive"], true),
  keepAliveInterval: opt.duration(["ttl", "keepalive.interval", "keepAlive.interval"], 30_000),
  keepAliveRetries: opt.int(["keepalive.retries", "keepAlive.retries"], 3, { min: 1, max: 100 }),
  privateKeyFile: opt.string(["privateKeyFile", "privateKey"], ""),
  passphrase: opt.string("passphrase", ""),
});

type SshdDialerOptions = Options<typeof sshdDialerOptions.schema>;

/** Dials a node once and keeps its SSH connection for later dials. */
export class SshdDialer implements Dialer {
  readonly #sessions = new Map<string, SshClientSession>();
  readonly #pending = new Map<string, Promise<SshClientSession>>();
  readonly #opts: SshClientOptions;
  #closed = false;

  constructor(opts: SshClientOptions, readonly dialTimeout: number, readonly log: Logger) {
    this.#opts = opts;
  }

  #live(addr: string): SshClientSession | undefined {
    const s = this.#sessions.get(addr);
    if (s?.alive) return s;
    if (s) this.#sessions.delete(addr);
    return undefined;
  }

  async dial(addr: string, ctx: DialContext): Promise<Duplex> {
    const live = this.#live(addr);
    if (live) return new SshSessionHandle(live);
    const pending = this.#pending.get(addr);
    if (pending) return new SshSessionHandle(await pending);
    return dialTCP(addr, { timeout: this.dialTimeout, signal: ctx.signal });
  }

  async handshake(conn: Duplex, addr: string, ctx: DialContext): Promise<Duplex> {
    if (conn instanceof SshSessionHandle) return conn;
    const live = this.#live(addr);
    const pending = this.#pending.get(addr);
    if (live || pending) {
      // Another dial won the race: share its connection and drop this one.
      conn.close();
      return new SshSessionHandle(live ?? await pending!);
    }
    const p = SshClientSession.connect(conn, this.#opts);
    this.#pending.set(addr, p);
    try {
      const session = await p;
      if (this.#closed) {
        session.close();
        throw new Error("the sshd dialer is closed");
      }
      this.#sessions.set(addr, session);
      ctx.log.debug(`ssh connection to ${addr} established`);
      session.done.then(() => {
        if (this.#sessions.get(addr) === session) this.#sessions.delete(addr);
        const why = session.error ? `: ${session.error}` : "";
        if (!this.#closed) this.log.info(`ssh connection to ${addr} closed${why}`);
      });
      return new SshSessionHandle(session);
    } catch (err) {
      throw new Error(`sshd ${addr}: ${errorMessage(err)}`, { cause: err });
    } finally {
      this.#pending.delete(addr);
    }
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#sessions.values()) s.close();
    this.#sessions.clear();
  }
}

/** Builds the client options; key file problems are reported at start-up (`path`: the node's dialer). */
export function sshClientOptions(
  user: string | undefined,
  password: string | undefined,
  o: SshdDialerOptions,
  path = "",
): SshClientOptions {
  let privateKey: string | undefined;
  if (o.privateKeyFile) {
    privateKey = loadPrivateKey(o.privateKeyFile, o.passphrase, `${path}.metadata.privateKeyFile`).pem;
  }
  return {
    username: user ?? "",
    password: password || undefined,
    privateKey,
    passphrase: o.passphrase || undefined,
    handshakeTimeout: o.handshakeTimeout,
    keepaliveInterval: o.keepAlive ? o.keepAliveInterval : 0,
    keepaliveCountMax: o.keepAliveRetries,
  };
}

export const sshdDialer: DialerFactory = {
  options: sshdDialerOptions,
  create(init, opts) {
    const client = sshClientOptions(init.auth?.username, init.auth?.password, opts, init.path);
    return new SshdDialer(client, opts.dialTimeout, init.log);
  },
};
