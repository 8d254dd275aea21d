/**
 * The TLS client on OpenSSL's libssl, through FFI, for the handshakes gost makes by default: no
 * verification of the server (gost's `secure=false`) and no client certificate. Everything else
 * (verifying clients, mTLS) stays on `node:tls` (client.ts).
 *
 * Why: Deno's `node:tls` client is rustls inside Node's socket machinery, and that machinery is
 * most of its cost. Paired against it (tests/bench/ab.ts, 4 windows), libssl over memory BIOs on a
 * plain Deno socket spent 15% less of the client's CPU per connection one at a time through
 * forward+tls (1453 → 1233 µs) and 12% through relay+tls (1539 → 1349), each connection 3-5% sooner,
 * and 4% less CPU per connection of both processes 64 at a time. The record layer runs between two
 * memory BIOs: ciphertext read from the duplex below is written into one, what TLS sends is drained
 * from the other and written to the duplex, so it wraps any duplex — a TCP socket or a tunnel
 * through earlier hops.
 *
 * Memory safety: every call is synchronous on this thread; the `SSL` object (which owns both
 * BIOs) is freed once, by `close()`, and every path checks it is still there before calling in.
 * Tickets stay the library's objects, owned by one {@link OpensslSessions} per client (a copy of
 * each, freed when it is offered, evicted, or its client is collected).
 * @module
 */
import { NATIVE_LIBRARIES, openLibrary } from "../ffi.ts";
import { type DirectIO, type Duplex, IODuplex } from "../duplex.ts";
import { directIO } from "../direct_io.ts";
import { BufferPool } from "../read_buffer.ts";
import { concat } from "../bytes.ts";
import { rootLogger } from "../log.ts";

const SYMBOLS = {
  TLS_client_method: { parameters: [], result: "pointer" },
  SSL_CTX_new: { parameters: ["pointer"], result: "pointer" },
  SSL_CTX_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  SSL_new: { parameters: ["pointer"], result: "pointer" },
  SSL_free: { parameters: ["pointer"], result: "void" },
  SSL_ctrl: { parameters: ["pointer", "i32", "i64", "buffer"], result: "i64" },
  SSL_set_bio: { parameters: ["pointer", "pointer", "pointer"], result: "void" },
  SSL_set_connect_state: { parameters: ["pointer"], result: "void" },
  SSL_set_alpn_protos: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  SSL_do_handshake: { parameters: ["pointer"], result: "i32" },
  SSL_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_shutdown: { parameters: ["pointer"], result: "i32" },
  SSL_set_shutdown: { parameters: ["pointer", "i32"], result: "void" },
  SSL_get_error: { parameters: ["pointer", "i32"], result: "i32" },
  SSL_session_reused: { parameters: ["pointer"], result: "i32" },
  SSL_version: { parameters: ["pointer"], result: "i32" },
  SSL_get1_session: { parameters: ["pointer"], result: "pointer" },
  SSL_set_session: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_SESSION_free: { parameters: ["pointer"], result: "void" },
  SSL_SESSION_is_resumable: { parameters: ["pointer"], result: "i32" },
  SSL_SESSION_get_time: { parameters: ["pointer"], result: "i64" },
  SSL_SESSION_set_time: { parameters: ["pointer", "i64"], result: "i64" },
  SSL_SESSION_dup: { parameters: ["pointer"], result: "pointer" },
  // libcrypto's, found through libssl (which links it)
  BIO_s_mem: { parameters: [], result: "pointer" },
  BIO_new: { parameters: ["pointer"], result: "pointer" },
  BIO_free: { parameters: ["pointer"], result: "i32" },
  BIO_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  BIO_ctrl_pending: { parameters: ["pointer"], result: "usize" },
  ERR_get_error: { parameters: [], result: "u64" },
  ERR_error_string_n: { parameters: ["u64", "buffer", "usize"], result: "void" },
  ERR_clear_error: { parameters: [], result: "void" },
} as const;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const SSL_ERROR_SSL = 1;
const SSL_ERROR_WANT_READ = 2;
const SSL_ERROR_ZERO_RETURN = 6;
const SSL_CTRL_SET_TLSEXT_HOSTNAME = 55;
const SSL_CTRL_MODE = 33;
const SSL_CTRL_SET_SESS_CACHE_MODE = 44;
const SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
const SSL_MODE_RELEASE_BUFFERS = 0x10;
const TLS1_2_VERSION = 0x0303;
const TLS1_3_VERSION = 0x0304;
const BIO_C_SET_BUF_MEM_EOF_RETURN = 130;
/** SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN: freeing then leaves the session resumable. */
const SHUTDOWN_BOTH = 3;
/** The creation time (1970, one second in) that marks a handshake's own session (`#handshakeDone`). */
const HANDSHAKE_MARK = 1n;
/** A caller's read buffer smaller than this does not carry ciphertext in (see `#feedInto`). */
const MIN_LANDING = 4 * 1024;
/** Plaintext per `SSL_write` before what it made is drained: four records. */
const WRITE_SLICE = 64 * 1024;

interface Loaded {
  s: Symbols;
  ctx: Deno.PointerObject;
}

let loaded: Loaded | null | undefined;
let enabled = true;

/** libssl at the usual paths, then bare names (blanket FFI only), as for libcrypto. */
const LIBSSL_PATHS: readonly string[] = [
  ...NATIVE_LIBRARIES.libssl,
  "libssl.so.3",
  "libssl.so.1.1",
  "libssl.3.dylib",
];

function load(): Loaded | null {
  const opened = openLibrary(LIBSSL_PATHS, SYMBOLS);
  if (!opened) {
    rootLogger.debug(
      "tls: libssl is not at any of its usual paths (or FFI is denied): client handshakes run on node:tls",
    );
    return null;
  }
  const s = opened.lib.symbols;
  const ctx = s.SSL_CTX_new(s.TLS_client_method());
  if (!ctx) {
    opened.lib.close();
    return null;
  }
  // No verification (the default for clients), TLS 1.2 at least (as Go's client and rustls), the
  // record buffers given back while a connection is idle, and no cache of the library's own: each
  // client keeps its tickets in an OpensslSessions.
  s.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, BigInt(TLS1_2_VERSION), null);
  s.SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, BigInt(SSL_MODE_RELEASE_BUFFERS), null);
  s.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, 0n, null);
  rootLogger.debug(`tls: client handshakes that verify nothing run on libssl (${opened.path})`);
  return { s, ctx };
}

function libssl(): Loaded | null {
  if (!enabled) return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** True when client handshakes that verify nothing run on libssl here (FFI granted, library found). */
export function opensslClientAvailable(): boolean {
  return libssl() !== null;
}

/** Turns the libssl client off (false) or back on (true, the default where allowed); for tests. */
export function setOpensslClient(on: boolean): void {
  enabled = on;
}

/**
 * Buffers that drained TLS output waits in until the duplex below has taken it: small ones for
 * handshake flights and short records (most drains, one per connection at a time), large ones for
 * bulk writes. One size for both allocated a 65 KiB buffer per drain 64 connections at a time.
 */
const smallOut = new BufferPool(4 * 1024, 64);
const largeOut = new BufferPool(WRITE_SLICE + 1024, 16);
/** Buffers ciphertext lands in when no caller's buffer will do: the handshake's, and small reads'. */
const landingBuffers = new BufferPool(4 * 1024, 16);

/** What the library said last on this thread, as one line (and its queue emptied). */
function sslReason(s: Symbols): string {
  const reasons: string[] = [];
  const text = new Uint8Array(256);
  for (let code = s.ERR_get_error(); code !== 0n && reasons.length < 4; code = s.ERR_get_error()) {
    s.ERR_error_string_n(code, text, BigInt(text.length));
    const end = text.indexOf(0);
    reasons.push(new TextDecoder().decode(text.subarray(0, end < 0 ? text.length : end)));
  }
  s.ERR_clear_error();
  return reasons.join("; ") || "unknown TLS error";
}

/** The ALPN offer in its wire form: each protocol's length, then its name. */
function alpnWire(protocols: string[]): Uint8Array<ArrayBuffer> {
  const names = protocols.map((p) => new TextEncoder().encode(p)).filter((p) =>
    p.length > 0 && p.length < 256
  );
  const out = new Uint8Array(names.reduce((n, p) => n + 1 + p.length, 0));
  let off = 0;
  for (const p of names) {
    out[off++] = p.length;
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Tickets kept per client, the oldest dropped first: each is offered once (a TLS 1.3 server may
 * take a ticket only once, as rustls does), so a client keeps about as many as it has handshakes
 * at once. ~1-3 KB each (the server's certificate included).
 */
const MAX_TICKETS = 128;
/** Records of a new connection looked at for the server's tickets (they follow the handshake). */
const TICKET_READS = 16;

/** Frees the tickets of a client that is gone (its dialer replaced by a reload). */
const orphaned = new FinalizationRegistry<Map<string, Deno.PointerObject[]>>((byServer) => {
  const lib = loaded;
  if (!lib) return;
  for (const tickets of byServer.values()) for (const t of tickets) lib.s.SSL_SESSION_free(t);
});

/**
 * One client's resumable sessions, as the library's own objects: each handshake takes the oldest
 * ticket of its server, and the tickets the server sends back join the end.
 */
export class OpensslSessions {
  readonly #byServer = new Map<string, Deno.PointerObject[]>();
  #count = 0;

  constructor() {
    orphaned.register(this, this.#byServer);
  }

  /** The oldest ticket kept for `server`, now the caller's to free. */
  take(server: string): Deno.PointerObject | undefined {
    const tickets = this.#byServer.get(server);
    const t = tickets?.shift();
    if (t) this.#count--;
    if (tickets?.length === 0) this.#byServer.delete(server);
    return t;
  }

  /** Keeps `ticket` (ours from now on) for `server`, freeing what falls beyond the bounds. */
  put(s: Symbols, server: string, ticket: Deno.PointerObject): void {
    let tickets = this.#byServer.get(server);
    if (!tickets) this.#byServer.set(server, tickets = []);
    tickets.push(ticket);
    if (++this.#count <= MAX_TICKETS) return;
    // Over the bound: the oldest ticket of the server whose tickets are oldest.
    const [oldest, theirs] = this.#byServer.entries().next().value!;
    s.SSL_SESSION_free(theirs.shift()!);
    this.#count--;
    if (theirs.length === 0) this.#byServer.delete(oldest);
  }

  /** Tickets kept for `server` (tests). */
  count(server: string): number {
    return this.#byServer.get(server)?.length ?? 0;
  }
}

/** How a handshake goes. */
export interface OpensslClientOptions {
  /** Server name sent as SNI (none for an IP address or an empty name). */
  sni?: string;
  /** ALPN protocols offered. */
  alpn?: string[];
  /** The client's tickets: one of `sessionKey`'s is offered, and the server's new ones kept. */
  sessions?: OpensslSessions;
  /** The server's name and address, the key of its tickets in `sessions`. */
  sessionKey?: string;
}

/** What {@link opensslConnect} resolves to. */
export interface OpensslConnection {
  duplex: IODuplex;
  /** Did the handshake resume the session offered? */
  resumed: boolean;
}

/** One TLS connection's record layer over the duplex below. */
class OpensslTls implements DirectIO {
  #ssl: Deno.PointerObject | null;
  readonly #rbio: Deno.PointerObject;
  readonly #wbio: Deno.PointerObject;
  #draining: Promise<void> | null = null;
  /** Where the server's tickets go, until {@link TICKET_READS} reads or two tickets. */
  #sessions: OpensslSessions | undefined;
  readonly #sessionKey: string;
  #ticketReads = 0;
  #tickets = 0;
  /** Ciphertext read but not yet handed to the library (see `#feed`). */
  #backlog: Uint8Array | null = null;
  #innerEnded = false;
  /** An error found while reading ahead (`#readMore`), for the next read to throw. */
  #failed = "";

  constructor(
    readonly s: Symbols,
    ssl: Deno.PointerObject,
    rbio: Deno.PointerObject,
    wbio: Deno.PointerObject,
    readonly inner: DirectIO,
    sessions: OpensslSessions | undefined,
    sessionKey: string,
  ) {
    this.#ssl = ssl;
    this.#rbio = rbio;
    this.#wbio = wbio;
    this.#sessions = sessions;
    this.#sessionKey = sessionKey;
  }

  /** The SSL object, or an error once the connection is closed. */
  #live(): Deno.PointerObject {
    if (!this.#ssl) throw new Error("TLS connection closed");
    return this.#ssl;
  }

  /** Reads ciphertext from below into `buf` and hands it to the library; false at end of stream. */
  async #feed(buf: Uint8Array<ArrayBuffer>): Promise<boolean> {
    const n = this.#innerEnded ? null : await this.inner.read(buf);
    if (!this.#ssl) return false;
    if (n === null) {
      this.#innerEnded = true;
      // From now on the read BIO reports end of stream instead of "retry".
      this.s.BIO_ctrl(this.#rbio, BIO_C_SET_BUF_MEM_EOF_RETURN, 0n, null);
      return false;
    }
    if (!this.#sessions && !this.#backlog) {
      this.s.BIO_write(this.#rbio, buf, n);
      return true;
    }
    // Looking for tickets: hold the bytes back and hand them over a record at a time, so that
    // each ticket is seen before the next replaces it (no callback can reach us: see the notes).
    const got = buf.slice(0, n);
    this.#backlog = this.#backlog ? concat([this.#backlog, got]) : got;
    this.#feedRecord();
    return true;
  }

  /** Hands the library the next whole record held back (all of it once tickets are no longer looked for). */
  #feedRecord(): void {
    const b = this.#backlog;
    if (!b) return;
    const whole = b.length >= 5 ? 5 + ((b[3] << 8) | b[4]) : Infinity;
    const n = this.#sessions && whole <= b.length ? whole : b.length;
    this.s.BIO_write(this.#rbio, b as Uint8Array<ArrayBuffer>, n);
    this.#backlog = n < b.length ? b.subarray(n) : null;
  }

  /** Writes everything the library has queued to the duplex below, in order. */
  #drain(): Promise<void> {
    if (this.#draining) return this.#draining;
    if (!this.#ssl || Number(this.s.BIO_ctrl_pending(this.#wbio)) === 0) return Promise.resolve();
    const pool = Number(this.s.BIO_ctrl_pending(this.#wbio)) <= smallOut.size ? smallOut : largeOut;
    const run = async () => {
      const buf = pool.take() as Uint8Array<ArrayBuffer>;
      try {
        while (this.#ssl) {
          const n = this.s.BIO_read(this.#wbio, buf, buf.length);
          if (n <= 0) break;
          await this.inner.write(buf.subarray(0, n));
        }
      } finally {
        pool.give(buf);
        this.#draining = null;
      }
    };
    return this.#draining = run();
  }

  /** Runs the handshake to its end; throws with the library's reason. */
  async handshake(): Promise<void> {
    const buf = landingBuffers.take() as Uint8Array<ArrayBuffer>;
    try {
      for (;;) {
        const ssl = this.#live();
        const r = this.s.SSL_do_handshake(ssl);
        const err = r === 1 ? 0 : this.s.SSL_get_error(ssl, r);
        const reason = err === SSL_ERROR_SSL ? sslReason(this.s) : "";
        await this.#drain();
        if (r === 1) return this.#handshakeDone(ssl);
        if (err !== SSL_ERROR_WANT_READ) {
          if (reason) throw new Error(`TLS handshake failed: ${reason}`);
          throw new Error("connection closed during the TLS handshake");
        }
        if (this.#backlog) this.#feedRecord();
        else if (!(await this.#feed(buf))) throw new Error("connection closed during the TLS handshake");
      }
    } finally {
      landingBuffers.give(buf);
    }
  }

  /**
   * TLS 1.3 tickets come after the handshake, each as a new session object that replaces the
   * connection's; the one the handshake ended with is, after a resumption, the ticket just used.
   * A session seen (kept, or the handshake's own) is marked with a creation time no ticket has, so
   * each is kept once; what is kept is a copy with its real time.
   */
  #handshakeDone(ssl: Deno.PointerObject): void {
    if (!this.#sessions) return;
    if (this.s.SSL_version(ssl) < TLS1_3_VERSION) return this.#keepTicket();
    const session = this.s.SSL_get1_session(ssl);
    if (!session) return;
    this.s.SSL_SESSION_set_time(session, HANDSHAKE_MARK);
    this.s.SSL_SESSION_free(session);
  }

  get resumed(): boolean {
    return this.#ssl !== null && this.s.SSL_session_reused(this.#ssl) === 1;
  }

  /** Keeps the connection's session if it is a ticket not seen yet (see `#handshakeDone`). */
  #keepTicket(): void {
    const ssl = this.#ssl;
    const sessions = this.#sessions;
    if (!ssl || !sessions) return;
    if (++this.#ticketReads > TICKET_READS) {
      this.#sessions = undefined;
      return;
    }
    const session = this.s.SSL_get1_session(ssl);
    if (!session) return;
    try {
      if (this.s.SSL_SESSION_get_time(session) === HANDSHAKE_MARK) return;
      if (this.s.SSL_SESSION_is_resumable(session) !== 1) return;
      const copy = this.s.SSL_SESSION_dup(session);
      this.s.SSL_SESSION_set_time(session, HANDSHAKE_MARK);
      if (copy) sessions.put(this.s, this.#sessionKey, copy);
      if (++this.#tickets >= 2) this.#sessions = undefined;
    } finally {
      this.s.SSL_SESSION_free(session);
    }
  }

  async read(buf: Uint8Array): Promise<number | null> {
    if (this.#failed) throw new Error(this.#failed);
    const out = buf as Uint8Array<ArrayBuffer>;
    const max = Math.min(out.length, 0x7fffffff);
    for (;;) {
      const ssl = this.#ssl;
      if (!ssl) return null;
      const n = this.s.SSL_read(ssl, out, max);
      // Reading may have made output of its own (a key update's answer).
      if (Number(this.s.BIO_ctrl_pending(this.#wbio)) > 0) this.#drain().catch(() => {});
      if (n > 0) {
        this.#keepTicket();
        return this.#readMore(ssl, out, n);
      }
      const err = this.s.SSL_get_error(ssl, n);
      if (err === SSL_ERROR_ZERO_RETURN) return null;
      if (err !== SSL_ERROR_WANT_READ) {
        const reason = err === SSL_ERROR_SSL ? sslReason(this.s) : "";
        this.s.ERR_clear_error();
        // The stream below ended without close_notify: end of stream, as node:tls and Go's client
        // read it between records; any other protocol error is an error.
        if (this.#innerEnded && (!reason || /unexpected eof/i.test(reason))) return null;
        throw new Error(`TLS read failed: ${reason || `error ${err}`}`);
      }
      this.#keepTicket();
      if (this.#backlog) {
        this.#feedRecord();
        continue;
      }
      if (!(await this.#feedInto(out))) {
        if (!this.#ssl) return null;
      }
    }
  }

  /** Adds to the `n` bytes read into `out` what whole records the library holds already (no waiting). */
  #readMore(ssl: Deno.PointerObject, out: Uint8Array<ArrayBuffer>, n: number): number {
    while (n < out.length && this.#ssl === ssl) {
      const more = this.s.SSL_read(ssl, out.subarray(n), Math.min(out.length - n, 0x7fffffff));
      if (more <= 0) {
        // WANT_READ: nothing whole is left. An error is the next read's to report (the library
        // would not say it twice); an end (close_notify) the library reports again itself.
        const err = this.s.SSL_get_error(ssl, more);
        if (err === SSL_ERROR_SSL) this.#failed = `TLS read failed: ${sslReason(this.s)}`;
        else this.s.ERR_clear_error();
        break;
      }
      n += more;
    }
    return n;
  }

  /**
   * Feeds the library through `buf` (the caller's read buffer: the library copies the ciphertext
   * before we reuse it), or through a pooled one when `buf` is too small to take a record's worth.
   */
  async #feedInto(buf: Uint8Array<ArrayBuffer>): Promise<boolean> {
    if (buf.length >= MIN_LANDING) return await this.#feed(buf);
    const landing = landingBuffers.take() as Uint8Array<ArrayBuffer>;
    try {
      return await this.#feed(landing);
    } finally {
      landingBuffers.give(landing);
    }
  }

  async write(data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.length;) {
      const ssl = this.#live();
      const end = Math.min(data.length, off + WRITE_SLICE);
      const n = this.s.SSL_write(ssl, data.subarray(off, end) as Uint8Array<ArrayBuffer>, end - off);
      if (n <= 0) {
        const err = this.s.SSL_get_error(ssl, n);
        throw new Error(`TLS write failed: ${err === SSL_ERROR_SSL ? sslReason(this.s) : `error ${err}`}`);
      }
      off += n;
      await this.#drain();
    }
  }

  async closeWrite(): Promise<void> {
    if (!this.#ssl) return;
    // close_notify: the peer reads end of stream; reading here goes on until its own.
    this.s.SSL_shutdown(this.#ssl);
    this.s.ERR_clear_error();
    try {
      await this.#drain();
    } catch {
      // the stream below is gone: nothing left to half-close
    }
    await this.inner.closeWrite();
  }

  /** Frees the connection's native state (once; later calls do nothing). */
  free(): void {
    const ssl = this.#ssl;
    if (!ssl) return;
    this.#ssl = null;
    this.s.SSL_set_shutdown(ssl, SHUTDOWN_BOTH);
    this.s.SSL_free(ssl);
    this.s.ERR_clear_error();
  }
}

/**
 * Runs a TLS client handshake over `conn` on libssl; resolves to the encrypted duplex. Rejects
 * (having closed `conn`) with the library's reason, or when the stream ends during the
 * handshake. Throws at once when libssl is not available ({@link opensslClientAvailable}).
 */
export async function opensslConnect(conn: Duplex, opts: OpensslClientOptions): Promise<OpensslConnection> {
  const lib = libssl();
  if (!lib) throw new Error("libssl is not available");
  const { s, ctx } = lib;
  const ssl = s.SSL_new(ctx);
  if (!ssl) throw new Error(`TLS set-up failed: ${sslReason(s)}`);
  const rbio = s.BIO_new(s.BIO_s_mem());
  const wbio = s.BIO_new(s.BIO_s_mem());
  if (!rbio || !wbio) {
    if (rbio) s.BIO_free(rbio);
    if (wbio) s.BIO_free(wbio);
    s.SSL_free(ssl);
    throw new Error("TLS set-up failed: no memory for its buffers");
  }
  // The SSL object owns both BIOs from here on.
  s.SSL_set_bio(ssl, rbio, wbio);
  s.SSL_set_connect_state(ssl);
  const key = opts.sessionKey ?? "";
  const tlsIO = new OpensslTls(s, ssl, rbio, wbio, directIO(conn), opts.sessions, key);
  const close = () => {
    tlsIO.free();
    conn.close();
  };
  try {
    if (opts.sni) {
      const name = new TextEncoder().encode(`${opts.sni}\0`);
      if (s.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, 0n, name) !== 1n) {
        throw new Error(`TLS set-up failed: server name ${opts.sni}: ${sslReason(s)}`);
      }
    }
    const alpn = opts.alpn?.length ? alpnWire(opts.alpn) : null;
    // (0 is success here.)
    if (alpn && s.SSL_set_alpn_protos(ssl, alpn, alpn.length) !== 0) {
      throw new Error(`TLS set-up failed: ALPN: ${sslReason(s)}`);
    }
    const ticket = opts.sessions?.take(key);
    if (ticket) {
      s.SSL_set_session(ssl, ticket);
      // SSL_set_session took its own reference.
      s.SSL_SESSION_free(ticket);
    }
    await tlsIO.handshake();
  } catch (err) {
    close();
    throw err;
  }
  const duplex = new IODuplex(tlsIO, close, conn.local, conn.remote);
  return { duplex, resumed: tlsIO.resumed };
}
