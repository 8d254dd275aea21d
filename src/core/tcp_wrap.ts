/**
 * Deno 2.9's Node TCP binding (`process.binding("tcp_wrap")`), for the two things Deno's own API
 * does not offer: a `node:net` socket on a `Deno.Conn`'s TCP handle (core/tls/adopt.ts) and a
 * duplicate of its descriptor (core/splice.ts). Deno internals: the connection's resource id is a
 * symbol property of `Deno.Conn`, and `TCPWrap.openFromRid` opens a handle on a duplicate of that
 * resource's descriptor. Where either is missing, callers get undefined and do without.
 *
 * The binding comes from `node:process`, loaded by {@link loadTcpWrap} when a caller first needs
 * it: the first `node:` module a process imports costs it ~5 MB of resident memory (measured:
 * an empty Deno 33 MB, one importing `node:process` 38 MB), which a KCP or UDP process never
 * needs to pay.
 * @module
 */

/** The part of the binding's `TCP` handle that is used here. */
export interface TcpWrap {
  openFromRid(rid: number): number;
  /** A fresh duplicate of the handle's descriptor, owned by the caller (Deno 2.9.6). */
  fdForIpc?(): number;
  close(): void;
}

type TcpWrapClass = new (type: number) => TcpWrap;

let tcpWrap: TcpWrapClass | null | undefined;
let loading: Promise<TcpWrapClass | null> | undefined;

/** Loads the binding's `TCP` class (once): null where this Deno has none with `openFromRid`. */
export function loadTcpWrap(): Promise<TcpWrapClass | null> {
  return loading ??= import("node:process").then(({ default: process }) => {
    const binding = (process as unknown as { binding(name: string): { TCP?: TcpWrapClass } }).binding(
      "tcp_wrap",
    );
    const TCP = binding.TCP;
    return typeof TCP === "function" && typeof TCP.prototype.openFromRid === "function" ? TCP : null;
  }).catch(() => null).then((TCP) => tcpWrap = TCP);
}

/** The binding's `TCP` class once {@link loadTcpWrap} has loaded it: undefined before, null where there is none. */
export function tcpWrapClass(): TcpWrapClass | null | undefined {
  return tcpWrap;
}

/** The resource id of `conn` (a symbol property in Deno 2.9), or undefined. */
export function resourceId(conn: Deno.Conn): number | undefined {
  const sym = Object.getOwnPropertySymbols(conn).find((s) => s.description === "Deno.internal.rid");
  const rid = sym ? (conn as unknown as Record<symbol, unknown>)[sym] : undefined;
  return typeof rid === "number" ? rid : undefined;
}

/**
 * A binding handle on `conn`'s TCP socket (a duplicate descriptor the handle owns: `close()` it,
 * or hand it to a `node:net` socket), or undefined: not a plain TCP connection, or no binding
 * (none loaded yet included: see {@link loadTcpWrap}).
 */
export function openTcpWrap(conn: Deno.Conn): TcpWrap | undefined {
  const TCP = tcpWrapClass();
  const rid = resourceId(conn);
  if (!TCP || rid === undefined) return undefined;
  try {
    const handle = new TCP(0 /* SOCKET */);
    return handle.openFromRid(rid) === 0 ? handle : undefined;
  } catch {
    return undefined;
  }
}
