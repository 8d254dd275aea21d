/**
 * This process's own socket descriptors, found by their addresses (Linux, through the libc FFI
 * grant). Deno 2.9.6 gives no descriptor for a socket (KCP's UDP sockets, whose buffers and
 * synchronous sends go through libc: protocol/kcp/sockbuf.ts, udp_send.ts) nor for a
 * `Deno.listenTls` listener or its connections, and two things need one of those:
 * - socket options of the listening socket, which the sockets it accepts inherit (`TCP_NODELAY`,
 *   `SO_KEEPALIVE`: a `TlsConn` has no `setNoDelay`);
 * - ending a socket whose TLS handshake stalls. Deno runs a server handshake in a task of its own
 *   that holds the socket, so closing the `TlsConn` cancels the wait for it but leaves the socket
 *   open until the peer goes. `shutdown(2)` on it ends that task's reads at once.
 *
 * A descriptor is acted on only while its local and peer addresses are those asked for, checked
 * just before, on this thread: a connected TCP socket's address pair is unique, so a descriptor
 * number that was reused since is left alone.
 * @module
 */
import { isIPv4, parseIPv6 } from "./addr.ts";
import { fileLimit, GETRLIMIT, NATIVE_LIBRARIES, openLibrary } from "./ffi.ts";

const SYMBOLS = {
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getrlimit: GETRLIMIT,
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const AF_INET = 2;
const AF_INET6 = 10;
const SOL_SOCKET = 1;
const SO_KEEPALIVE = 9;
const SO_TYPE = 3;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const SHUT_RDWR = 2;
/** Descriptor numbers checked at most when /proc cannot be read and the limit is higher. */
const MAX_SCAN = 65_536;

let libc: Libc | null | undefined;

function open(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (Deno.build.os !== "linux") return libc;
  libc = openLibrary(NATIVE_LIBRARIES.libc, SYMBOLS)?.lib.symbols ?? null;
  return libc;
}

/** True when this process can find and act on its sockets by address (Linux, the libc grant). */
export function canFindSockets(): boolean {
  return open() !== null;
}

const sockaddr = new Uint8Array(128);
const sockaddrLen = new Uint32Array(1);
const sockaddrLenBytes = new Uint8Array(sockaddrLen.buffer);
const one = new Uint8Array(new Int32Array([1]).buffer);

/** A comparable key of an IPv6 address (16 bytes) and port. */
function key(ip16: ArrayLike<number>, port: number): string {
  let s = String(port);
  for (let i = 0; i < 16; i++) s += "." + ip16[i];
  return s;
}

/** The {@link key} of an IPv4 address (4 bytes) as its IPv4-mapped IPv6 form, as a dual-stack socket has it. */
function v4Key(ip4: ArrayLike<number>, port: number): string {
  return `${port}.0.0.0.0.0.0.0.0.0.0.255.255.${ip4[0]}.${ip4[1]}.${ip4[2]}.${ip4[3]}`;
}

/** The key of a Deno TCP address, or null for one that is not a TCP address of an IP. */
export function addrKey(addr: Deno.Addr): string | null {
  return addr.transport === "tcp" ? ipKey(addr) : null;
}

/** The key of an IP address and port, or null when the host is not an IP address. */
function ipKey(addr: Deno.NetAddr): string | null {
  if (isIPv4(addr.hostname)) return v4Key(addr.hostname.split(".").map(Number), addr.port);
  const ip = parseIPv6(addr.hostname);
  return ip ? key(ip, addr.port) : null;
}

/** The key of `fd`'s own (`getsockname`) or peer (`getpeername`) address, or null. */
function fdKey(c: Libc, which: "getsockname" | "getpeername", fd: number): string | null {
  sockaddrLen[0] = sockaddr.length;
  if (c[which](fd, sockaddr, sockaddrLenBytes) !== 0) return null;
  const family = sockaddr[0] | (sockaddr[1] << 8);
  const port = (sockaddr[2] << 8) | sockaddr[3];
  if (family === AF_INET6) return key(sockaddr.subarray(8, 24), port);
  return family === AF_INET ? v4Key(sockaddr.subarray(4, 8), port) : null;
}

/**
 * How many descriptor numbers may be open: the size of the process's descriptor table (FDSize,
 * at least the highest open number + 1), else the descriptor limit (when no descriptor is left to
 * read /proc with, every number below the limit is open). Checking a number costs ~1 µs; listing
 * /proc/self/fd costs ~3 µs an entry.
 */
function fdCount(c: Libc): number {
  try {
    const m = /^FDSize:\s*(\d+)/m.exec(Deno.readTextFileSync("/proc/self/status"));
    if (m) return Number(m[1]);
  } catch {
    // no /proc, or out of descriptors
  }
  return Math.min(fileLimit(c) ?? 1024, MAX_SCAN);
}

/** An int option's value out of getsockopt (SO_TYPE, TCP_NODELAY), and its length. */
const typeOut = new Int32Array(1);
const typeBytes = new Uint8Array(typeOut.buffer);
const typeLen = new Uint32Array(1);
const typeLenBytes = new Uint8Array(typeLen.buffer);

/** `fd`'s socket type (SO_TYPE), or -1. */
function socketType(c: Libc, fd: number): number {
  typeLen[0] = 4;
  return c.getsockopt(fd, SOL_SOCKET, SO_TYPE, typeBytes, typeLenBytes) === 0 ? typeOut[0] : -1;
}

/**
 * The descriptors of this process's sockets bound to exactly `addr` and connected to no peer: a
 * TCP listener (one per thread with reusePort, all ours) or an unconnected UDP socket, of the
 * address's transport. Empty without libc or for an address that is not an IP address.
 */
export function boundSockets(addr: Deno.Addr): number[] {
  const c = open();
  if (!c || (addr.transport !== "tcp" && addr.transport !== "udp")) return [];
  const want = ipKey(addr);
  if (!want) return [];
  const type = addr.transport === "tcp" ? SOCK_STREAM : SOCK_DGRAM;
  const found: number[] = [];
  for (let fd = 0, n = fdCount(c); fd < n; fd++) {
    if (fdKey(c, "getsockname", fd) !== want || fdKey(c, "getpeername", fd) !== null) continue;
    if (socketType(c, fd) === type) found.push(fd);
  }
  return found;
}

/** Sets `TCP_NODELAY` and `SO_KEEPALIVE` on `fd` as asked; false when one of them failed. */
function applyOptions(c: Libc, fd: number, opts: { noDelay: boolean; keepAlive: boolean }): boolean {
  let ok = true;
  if (opts.noDelay) ok &&= c.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4) === 0;
  if (opts.keepAlive) ok &&= c.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, one, 4) === 0;
  return ok;
}

/** Options for the listening sockets bound to `addr`; false when none was found or set. */
export function setListenerOptions(addr: Deno.Addr, opts: { noDelay: boolean; keepAlive: boolean }): boolean {
  const c = open();
  if (!c) return false;
  let set = false;
  for (const fd of boundSockets(addr)) set = applyOptions(c, fd, opts) || set;
  return set;
}

/** The descriptor of this process's TCP socket connected from `local` to `peer`, or -1. */
function connectedSocket(c: Libc, local: Deno.Addr, peer: Deno.Addr): number {
  const want = addrKey(local), wantPeer = addrKey(peer);
  if (!want || !wantPeer || peer.transport !== "tcp") return -1;
  for (let fd = 0, n = fdCount(c); fd < n; fd++) {
    sockaddrLen[0] = sockaddr.length;
    if (c.getpeername(fd, sockaddr, sockaddrLenBytes) !== 0) continue;
    // The peer's port first: most descriptors are ruled out by two bytes, without building a key.
    if (((sockaddr[2] << 8) | sockaddr[3]) !== peer.port) continue;
    if (fdKey(c, "getpeername", fd) === wantPeer && fdKey(c, "getsockname", fd) === want) return fd;
  }
  return -1;
}

/**
 * Options for this process's connected socket whose local and peer addresses are `local` and
 * `peer`; false when it was not found (or is not an IP socket). For a connection that completed
 * before its listening socket got the options (see native_server.ts), which it then did not inherit.
 */
export function setConnectedOptions(
  local: Deno.Addr,
  peer: Deno.Addr,
  opts: { noDelay: boolean; keepAlive: boolean },
): boolean {
  const c = open();
  const fd = c ? connectedSocket(c, local, peer) : -1;
  return !!c && fd >= 0 && applyOptions(c, fd, opts);
}

/** Whether that connected socket has `TCP_NODELAY`, or null when it is not found (tests, diagnostics). */
export function noDelayOf(local: Deno.Addr, peer: Deno.Addr): boolean | null {
  const c = open();
  const fd = c ? connectedSocket(c, local, peer) : -1;
  if (!c || fd < 0) return null;
  typeLen[0] = 4;
  if (c.getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, typeBytes, typeLenBytes) !== 0) return null;
  return typeOut[0] !== 0;
}

/**
 * Shuts down both directions of each connected socket of this process whose local and peer
 * addresses are a pair of `pairs` (keys `local + "|" + peer`, see {@link addrKey}); returns how
 * many. Pairs found are removed from the set.
 */
export function shutdownSockets(pairs: Set<string>): number {
  const c = open();
  if (!c || pairs.size === 0) return 0;
  // The peers' ports first: most descriptors are ruled out by two bytes, without building a key.
  const peerPorts = new Set<number>();
  for (const pair of pairs) peerPorts.add(parseInt(pair.slice(pair.indexOf("|") + 1)));
  let done = 0;
  for (let fd = 0, n = fdCount(c); fd < n; fd++) {
    sockaddrLen[0] = sockaddr.length;
    if (c.getpeername(fd, sockaddr, sockaddrLenBytes) !== 0) continue;
    if (!peerPorts.has((sockaddr[2] << 8) | sockaddr[3])) continue;
    const peer = fdKey(c, "getpeername", fd);
    if (peer === null) continue;
    const pair = fdKey(c, "getsockname", fd) + "|" + peer;
    if (!pairs.has(pair)) continue;
    // Checked just now on this thread, which owns the socket: the number cannot have changed hands.
    if (c.shutdown(fd, SHUT_RDWR) === 0) done++;
    pairs.delete(pair);
    if (pairs.size === 0) break;
  }
  return done;
}
