/**
 * What a TLS client keeps between its connections: the secure context (built once, not per
 * handshake) and the sessions it may resume, per server name and address.
 *
 * Deno's `node:tls` keeps TLS 1.3 tickets natively, in one store for the whole process keyed by
 * the server name alone (Deno 2.9.6: a ticket from one port was offered to another with the same
 * name). The `session` a client passes only allows resuming: it is a token naming that store's
 * entry. So this cache decides *whether* a handshake may resume — only when this client finished a
 * handshake with that server name at that address before — while the ticket itself comes from the
 * native store. A ticket the server no longer accepts (expired, other keys, other server) makes the
 * handshake a full one; the failure costs nothing more.
 *
 * Resumption is allowed only on clients that do not verify the server (gost's default): a resumed
 * handshake presents no certificate, and the native store may hold a ticket that another client of
 * the process got from an unverified server of the same name.
 * @module
 */
import * as tls from "node:tls";
import type { TlsMaterial } from "./config.ts";

/** Server name and address pairs remembered per client; the oldest goes first. */
const MAX_SESSIONS = 256;

/** One client's (a dialer's) secure context and resumable sessions. */
export class TlsClientCache {
  #context: tls.SecureContext | undefined;
  readonly #sessions = new Map<string, Buffer>();
  readonly #resume: boolean;
  /** Handshakes finished, and how many of them resumed a session (for tests and diagnostics). */
  readonly counts = { handshakes: 0, resumed: 0 };

  /** `resume`: whether handshakes may resume (off for verifying clients, see the module notes). */
  constructor(readonly material: TlsMaterial, resume: boolean) {
    this.#resume = resume;
  }

  /** The secure context of every handshake: CA, certificate and key parsed once. */
  get context(): tls.SecureContext {
    return this.#context ??= tls.createSecureContext({
      ca: this.material.ca,
      cert: this.material.pair?.cert,
      key: this.material.pair?.key,
    });
  }

  /** The session to resume with `serverName` at `addr`, if any. */
  session(serverName: string, addr: string): Buffer | undefined {
    if (!this.#resume) return undefined;
    return this.#sessions.get(`${serverName}\n${addr}`);
  }

  /** Remembers a session `socket` received from `serverName` at `addr`. */
  watch(socket: tls.TLSSocket, serverName: string, addr: string): void {
    if (!this.#resume) return;
    socket.once("session", (session: Buffer) => {
      const key = `${serverName}\n${addr}`;
      this.#sessions.delete(key);
      this.#sessions.set(key, session);
      if (this.#sessions.size > MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    });
  }

  /** Counts a finished handshake (`resumed`: did it resume a session?). */
  finished(resumed: boolean): void {
    this.counts.handshakes++;
    if (resumed) this.counts.resumed++;
  }

  /** May handshakes resume (a client that does not verify the server)? */
  get resumes(): boolean {
    return this.#resume;
  }

  /** Forgets the session of `serverName` at `addr` (its handshake failed). */
  forget(serverName: string, addr: string): void {
    this.#sessions.delete(`${serverName}\n${addr}`);
  }
}
