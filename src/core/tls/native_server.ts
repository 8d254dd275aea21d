/**
 * The TLS server of listeners that ask for no client certificate, on Deno's own TLS
 * (`Deno.listenTls`, rustls without `node:tls` around it): 0.77 against 1.23 ms of server CPU per
 * forward+tls connection 64 at a time, and reads straight into the caller's buffer.
 *
 * Deno 2.9.6 leaves two gaps, both closed through this process's own socket descriptors
 * (core/socket_fds.ts, Linux with the libc grant); where that is not possible the listeners use
 * `node:tls` (server.ts):
 * - a `TlsConn` has no `setNoDelay`: without it a small reply waits for the peer's delayed ACK
 *   (~40 ms). The listening socket gets `TCP_NODELAY` (and `SO_KEEPALIVE`), which accepted
 *   sockets inherit.
 * - Deno runs each server handshake in a task of its own that holds the socket, from the accept
 *   on: closing a `TlsConn` whose handshake has not ended (the handshake deadline, an eviction,
 *   an admission refusal) would leave the socket open until the peer goes, so a silent client
 *   would keep its descriptor for good. Closing one also shuts its socket down.
 * @module
 */
import {
  addrKey,
  canFindSockets,
  setConnectedOptions,
  setListenerOptions,
  shutdownSockets,
} from "../socket_fds.ts";
import { listenTCP } from "../listen.ts";
import type { Duplex } from "../duplex.ts";
import { socketDuplex } from "../socket.ts";
import type { CertPair } from "./selfsigned.ts";

/**
 * Searching the descriptors costs ~1 µs each: after a search, the next waits 9 times as long as
 * it took, so a flood of stalled handshakes costs at most a tenth of a core. With few descriptors
 * (out of them, say) that is at once.
 */
const SWEEP_PAUSE = 9;

/** Pairs (local|peer) of sockets whose handshake was closed before it ended. */
const toEnd = new Set<string>();
let sweepTimer: ReturnType<typeof setTimeout> | undefined;
let nextSweep = -Infinity;

function sweep(): void {
  sweepTimer = undefined;
  const t0 = performance.now();
  shutdownSockets(toEnd);
  toEnd.clear(); // the rest had ended by themselves
  const t1 = performance.now();
  nextSweep = t1 + (t1 - t0) * SWEEP_PAUSE;
}

function endSocket(pair: string): void {
  toEnd.add(pair);
  if (sweepTimer !== undefined) return;
  const wait = nextSweep - performance.now();
  if (wait <= 0) return sweep();
  const timer = setTimeout(sweep, wait);
  Deno.unrefTimer(timer);
  sweepTimer = timer;
}

/** Accepted connections whose handshake has not ended yet, by connection. */
const handshaking = new WeakSet<Deno.Conn>();

/** The local|peer key of `conn`'s socket, or null (a socket already reset has no addresses). */
function pairOf(conn: Deno.Conn): string | null {
  try {
    const local = addrKey(conn.localAddr), peer = addrKey(conn.remoteAddr);
    return local && peer ? local + "|" + peer : null;
  } catch {
    return null;
  }
}

/** Makes closing `conn` before its handshake has ended also end its socket. */
function guard(conn: Deno.TlsConn): Deno.TlsConn {
  handshaking.add(conn);
  const close = conn.close.bind(conn);
  conn.close = () => {
    try {
      if (handshaking.delete(conn)) {
        const pair = pairOf(conn); // before the close: the addresses are the resource's
        if (pair) endSocket(pair);
      }
    } finally {
      close();
    }
  };
  return conn;
}

/** A `Deno.listenTls` listener whose connections end their socket when closed mid-handshake. */
export class NativeTlsListener {
  readonly #l: Deno.TlsListener;
  readonly #keepAlive: boolean;
  /** Until when accepted sockets may predate the listener's options (see {@link accept}). */
  readonly #raceEnds = performance.now() + OPTIONS_RACE_MS;

  constructor(l: Deno.TlsListener, keepAlive = false) {
    this.#l = l;
    this.#keepAlive = keepAlive;
  }

  get addr(): Deno.Addr {
    return this.#l.addr;
  }

  /**
   * The socket is listening before it gets `TCP_NODELAY`: a connection completed in between (a
   * client redialling the moment we restart) inherits none, and a multiplexed channel on it waits
   * ~40 ms on every small write (the peer's delayed ACK). Sockets accepted early get the options
   * themselves.
   */
  async accept(): Promise<Deno.Conn> {
    const conn = guard(await this.#l.accept());
    if (performance.now() < this.#raceEnds) {
      setConnectedOptions(conn.localAddr, conn.remoteAddr, { noDelay: true, keepAlive: this.#keepAlive });
    }
    return conn;
  }

  close(): void {
    this.#l.close();
  }
}

/**
 * How long after listening accepted sockets are given the listener's options themselves: those
 * that completed before the options were set sit in the accept queue, which the accept loop drains
 * at once (connections queued longer than this are a backlog no client waits through).
 */
const OPTIONS_RACE_MS = 5_000;

/** Errors of binding the port (as opposed to Deno refusing the certificate or key). */
function bindError(err: unknown): boolean {
  const e = err instanceof Error && "cause" in err && err.cause ? err.cause : err;
  return e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.AddrNotAvailable ||
    e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable;
}

/**
 * Binds `addr` with Deno's TLS, or returns null where it cannot serve: not Linux with the libc
 * grant, a certificate or key rustls does not take, or a listening socket that could not be given
 * its options. Throws `ListenError` when the port cannot be bound.
 */
export function listenNativeTls(
  addr: string,
  pair: CertPair,
  opts: { alpn?: string[]; reusePort: boolean; keepAlive: boolean },
): NativeTlsListener | null {
  if (!canFindSockets()) return null;
  let l: Deno.TlsListener;
  try {
    l = listenTCP(
      addr,
      opts.reusePort,
      (o) => Deno.listenTls({ ...o, cert: pair.cert, key: pair.key, alpnProtocols: opts.alpn }),
    );
  } catch (err) {
    if (bindError(err)) throw err;
    return null;
  }
  if (!setListenerOptions(l.addr, { noDelay: true, keepAlive: opts.keepAlive })) {
    l.close();
    return null;
  }
  return new NativeTlsListener(l, opts.keepAlive);
}

/** The server handshake on a connection of a {@link NativeTlsListener}. */
export async function secureNative(conn: Deno.TlsConn): Promise<Duplex> {
  try {
    await conn.handshake();
  } catch (err) {
    // Deno's handshake task has ended, so closing releases the socket (a close of ours that
    // cancelled the handshake has ended it already).
    handshaking.delete(conn);
    try {
      conn.close();
    } catch {
      // closed already
    }
    // The peer's end of stream, or our close: named as node:tls's path names them.
    if (err instanceof Deno.errors.UnexpectedEof || err instanceof Deno.errors.Interrupted) {
      throw new Error("connection closed during the TLS handshake", { cause: err });
    }
    throw err;
  }
  handshaking.delete(conn);
  return socketDuplex(conn);
}
