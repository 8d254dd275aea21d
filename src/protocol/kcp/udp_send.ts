/**
 * Sending a KCP endpoint's datagrams with one synchronous `sendto` each, through libc, where the
 * process may load it (the same grant as the socket buffers, sockbuf.ts).
 *
 * Why: Deno's `DatagramConn.send` is an async op that reads the bytes only when it runs, so every
 * datagram had to be a fresh copy that lived until the next garbage collection — with the op's
 * promise, the sender's biggest allocation per datagram. Freed ArrayBuffers pile up in glibc's
 * heap between collections, and V8's young generation grows with the allocation rate: the two
 * processes of tests/bench/kcp_cpu.ts peaked at ~370 MB. The kernel copies a datagram before
 * `sendto` returns, so the session's own datagram and parity buffers are reused for every
 * datagram (KcpSession lends them), and no promise is made. `MSG_DONTWAIT` keeps the call from
 * ever blocking the event loop: a full socket buffer returns an error, and the caller sends that
 * datagram the usual way.
 * @module
 */
import { parseIPv6 } from "../../core/addr.ts";
import { type Libc, openLibc, socketFd } from "./sockbuf.ts";

const MSG_DONTWAIT = 0x40;
const AF_INET = 2;
const AF_INET6 = 10;

/** A socket's descriptor with a synchronous send. */
export interface SyncSender {
  /** `to` as the kernel takes it (a sockaddr), or null when it is not a numeric IP address. */
  address(to: Deno.NetAddr): Uint8Array | null;
  /** Sends `pkt` to `sockaddr` now; false when the kernel did not take it (send it another way). */
  send(pkt: Uint8Array, sockaddr: Uint8Array): boolean;
  /** Stops using the descriptor (call before the socket closes: its number may be reused). */
  close(): void;
}

/** A sockaddr_in or sockaddr_in6 for a numeric address, or null. */
export function sockaddrOf(to: Deno.NetAddr): Uint8Array | null {
  const host = to.hostname;
  const port = to.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) return null;
    const sa = new Uint8Array(16);
    sa[0] = AF_INET, sa[2] = port >>> 8, sa[3] = port & 255;
    sa.set(b, 4);
    return sa;
  }
  const v6 = host.includes("%") ? null : parseIPv6(host.replace(/^\[|\]$/g, ""));
  if (!v6) return null;
  const sa = new Uint8Array(28);
  sa[0] = AF_INET6, sa[2] = port >>> 8, sa[3] = port & 255;
  sa.set(v6, 8);
  return sa;
}

/** A synchronous sender for `sock`, or null (no libc, no permission, descriptor not found). */
export function syncSender(sock: Deno.DatagramConn): SyncSender | null {
  const libc: Libc | null = openLibc();
  if (!libc) return null;
  let fd = socketFd(sock);
  if (fd < 0) return null;
  // Deno's FFI takes a number for a size_t at run time (a bigint would be an allocation per call).
  const sendto = libc.symbols.sendto as unknown as (
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
    to: Uint8Array,
    toLen: number,
  ) => number;
  return {
    address: sockaddrOf,
    send: (pkt, sa) => fd >= 0 && sendto(fd, pkt, pkt.length, MSG_DONTWAIT, sa, sa.length) === pkt.length,
    close: () => {
      fd = -1;
    },
  };
}
