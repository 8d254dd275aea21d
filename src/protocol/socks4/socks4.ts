/**
 * SOCKS4 and SOCKS4a messages.
 *
 * ```
 * request: VN(1)=4 | CD(1) | DSTPORT(2) | DSTIP(4) | USERID | 0 [| HOST | 0  when DSTIP = 0.0.0.x, x != 0]
 * reply:   VN(1)=0 | CD(1) | DSTPORT(2) | DSTIP(4)
 * ```
 * @module
 */
import { isIPv4, joinHostPort, splitHostPort } from "../../core/addr.ts";
import type { BufferedReader } from "../../core/buffered_reader.ts";

export const VERSION = 0x04;
export const CMD_CONNECT = 0x01;
export const CMD_BIND = 0x02;

/** Reply codes. */
export const Reply = { Granted: 90, Rejected: 91, NoIdentd: 92, UserMismatch: 93 } as const;

/** Longest user id or host name accepted. */
export const MAX_FIELD = 255;

/** A SOCKS4 protocol violation. */
export class Socks4Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Socks4Error";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NUL = new Uint8Array([0]);

/** Encodes a request; a non-IPv4 host uses the 4a form (IP 0.0.0.1 plus the name). */
export function encodeRequest(cmd: number, addr: string, userId = ""): Uint8Array {
  const { host, port } = splitHostPort(addr);
  const user = encoder.encode(userId);
  const v4 = isIPv4(host);
  const name = v4 ? new Uint8Array(0) : encoder.encode(host);
  if (user.length > MAX_FIELD || name.length > MAX_FIELD) {
    throw new Socks4Error("user id or host name too long");
  }
  const out = new Uint8Array(8 + user.length + 1 + (v4 ? 0 : name.length + 1));
  out[0] = VERSION;
  out[1] = cmd;
  out[2] = port >> 8;
  out[3] = port & 0xff;
  if (v4) host.split(".").forEach((p, i) => out[4 + i] = Number(p));
  else out[7] = 1;
  out.set(user, 8);
  if (!v4) out.set(name, 9 + user.length);
  return out;
}

/** Reads a request (after the caller saw VN=4). */
export async function readRequest(r: BufferedReader): Promise<{ cmd: number; addr: string; userId: string }> {
  const vn = (await r.peek(1, "socks4 request"))[0];
  if (vn !== VERSION) throw new Socks4Error(`bad version ${vn}`);
  const head = await r.readExact(8, "socks4 request");
  const port = (head[2] << 8) | head[3];
  const user = await r.readUntil(NUL, MAX_FIELD + 1, "socks4 user id");
  if (user.length > MAX_FIELD + 1) throw new Socks4Error(`user id longer than ${MAX_FIELD} bytes`);
  let host = Array.from(head.subarray(4, 8)).join(".");
  if (head[4] === 0 && head[5] === 0 && head[6] === 0 && head[7] !== 0) {
    const name = await r.readUntil(NUL, MAX_FIELD + 1, "socks4a host name");
    if (name.length > MAX_FIELD + 1) throw new Socks4Error(`host name longer than ${MAX_FIELD} bytes`);
    host = decoder.decode(name.subarray(0, name.length - 1));
    if (!host) throw new Socks4Error("empty socks4a host name");
  }
  return {
    cmd: head[1],
    addr: joinHostPort(host, port),
    userId: decoder.decode(user.subarray(0, user.length - 1)),
  };
}

/** Encodes a reply. */
export function encodeReply(code: number, addr = "0.0.0.0:0"): Uint8Array {
  const { host, port } = splitHostPort(addr);
  const out = new Uint8Array(8);
  out[1] = code;
  out[2] = port >> 8;
  out[3] = port & 0xff;
  if (isIPv4(host)) host.split(".").forEach((p, i) => out[4 + i] = Number(p));
  return out;
}

/** Text of a reply code. */
export function replyText(code: number): string {
  switch (code) {
    case Reply.Granted:
      return "request granted";
    case Reply.Rejected:
      return "request rejected or failed";
    case Reply.NoIdentd:
      return "rejected: cannot reach identd";
    case Reply.UserMismatch:
      return "rejected: user id mismatch";
  }
  return `unknown reply ${code}`;
}
