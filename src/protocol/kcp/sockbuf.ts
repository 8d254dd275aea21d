/**
 * Larger kernel buffers for a KCP endpoint's UDP socket, as kcptun sets them (`--sockbuf`).
 *
 * A KCP sender with 1024-packet windows outruns a receiver whenever the receiver is off the CPU
 * for a few milliseconds; with Linux's default 208 KiB receive buffer (about 90 datagrams) the
 * kernel then drops a burst, and every dropped datagram is sent again. Measured over loopback
 * (tests/bench/kcp_cpu.ts): a fifth of all datagrams were dropped and retransmitted; with 4 MiB
 * buffers none, throughput 190 -> 266 Mbit/s and CPU per megabyte 54 -> 42 ms (both processes).
 * Deno has no option for socket buffers, so this goes through libc with FFI, only where the
 * process may load libc (gost is granted it at its usual paths, core/ffi.ts); elsewhere the socket
 * keeps the kernel's default.
 * @module
 */
import { ffiAllowed, NATIVE_LIBRARIES, type OpenedLibrary, openLibrary } from "../../core/ffi.ts";
import { boundSockets } from "../../core/socket_fds.ts";

/** Bytes kcptun asks for (`--sockbuf`); the kernel caps it at net.core.[rw]mem_max and doubles it. */
export const SOCKET_BUFFER = 4 << 20;

const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;

const SYMBOLS = {
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  // ssize_t, read as its low 32 bits: the byte count of a datagram, or -1.
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "i32" },
} as const;
/** The C library's socket calls used by KCP. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>;
let opened: OpenedLibrary<typeof SYMBOLS> | null | undefined;

/** libc with the calls above, when this process may load it (checked on every call), else null. */
export function openLibc(): Libc | null {
  if (Deno.build.os !== "linux") return null;
  if (opened === undefined) opened = openLibrary([...NATIVE_LIBRARIES.libc, "libc.so.6"], SYMBOLS);
  // Checked on every call: the permission can be revoked after the library was opened.
  if (!opened || !ffiAllowed(opened.path.startsWith("/") ? opened.path : undefined)) return null;
  return opened.lib;
}

/**
 * The descriptor of `sock` (Deno does not tell it), found by its address among the process's
 * sockets (core/socket_fds.ts), or -1.
 */
export function socketFd(sock: Deno.DatagramConn): number {
  return boundSockets(sock.addr)[0] ?? -1;
}

/**
 * Best effort: raises SO_RCVBUF and SO_SNDBUF of `sock` to {@link SOCKET_BUFFER} (see the module
 * note). Returns the receive buffer the kernel granted, in bytes, or 0 when it could not ask.
 */
export function enlargeSocketBuffers(sock: Deno.DatagramConn): number {
  const libc = openLibc();
  if (!libc) return 0;
  const fd = socketFd(sock);
  if (fd < 0) return 0;
  const v = new Uint8Array(new Int32Array([SOCKET_BUFFER]).buffer);
  libc.symbols.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, v, 4);
  if (libc.symbols.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, v, 4) !== 0) return 0;
  return intOption(libc, fd, SO_RCVBUF) ?? 0;
}

/** An int-valued SOL_SOCKET option of `fd`, or null when getsockopt fails. */
function intOption(c: Libc, fd: number, name: number): number | null {
  const value = new Int32Array(1), len = new Uint32Array([4]);
  const r = c.symbols.getsockopt(
    fd,
    SOL_SOCKET,
    name,
    new Uint8Array(value.buffer),
    new Uint8Array(len.buffer),
  );
  return r === 0 ? value[0] : null;
}
