/**
 * SOCKS5 (RFC 1928, RFC 1929) messages with GOST's private methods and commands.
 * Addresses use the shared codec in `core/socks_addr.ts`.
 * @module
 */
import type { BufferedReader } from "../../core/buffered_reader.ts";
import { decodeSocksAddr, encodeSocksAddr, SocksAddrError, socksAddrLength } from "../../core/socks_addr.ts";

export const VERSION = 0x05;

/** Authentication methods (0x80.. are GOST's private ones). */
export const Method = {
  NoAuth: 0x00,
  GSSAPI: 0x01,
  UserPass: 0x02,
  /** GOST: TLS upgrade after method selection. */
  TLS: 0x80,
  /** GOST: TLS, then username/password. */
  TLSAuth: 0x82,
  /** GOST: multiplexed session. */
  Mux: 0x88,
  NoAcceptable: 0xff,
} as const;

/** Request commands (0xF0.. are GOST's private ones). */
export const Cmd = {
  Connect: 0x01,
  Bind: 0x02,
  UdpAssociate: 0x03,
  /** GOST (Tor): resolve a name. */
  Resolve: 0xf0,
  ResolvePtr: 0xf1,
  /** GOST: BIND whose stream becomes a multiplexed session (rtcp). */
  MuxBind: 0xf2,
  /** GOST: UDP over the TCP stream (port 0: association; non-zero: UDP BIND). */
  UdpTun: 0xf3,
} as const;

/** Reply codes. */
export const Reply = {
  Succeeded: 0x00,
  Failure: 0x01,
  NotAllowed: 0x02,
  NetUnreachable: 0x03,
  HostUnreachable: 0x04,
  ConnRefused: 0x05,
  TTLExpired: 0x06,
  CmdUnsupported: 0x07,
  AddrUnsupported: 0x08,
} as const;

const REPLY_TEXT = [
  "succeeded",
  "general SOCKS server failure",
  "connection not allowed by ruleset",
  "network unreachable",
  "host unreachable",
  "connection refused",
  "TTL expired",
  "command not supported",
  "address type not supported",
];

/** Human text of a reply code. */
export function replyText(rep: number): string {
  return REPLY_TEXT[rep] ?? `unknown reply 0x${rep.toString(16).padStart(2, "0")}`;
}

/** RFC 1929 sub-negotiation version and statuses. */
export const USERPASS_VERSION = 0x01;
export const USERPASS_OK = 0x00;
export const USERPASS_FAILED = 0x01;

/** A SOCKS5 protocol violation; `reply` is the code to answer with, when one applies. */
export class Socks5Error extends Error {
  constructor(message: string, readonly reply?: number) {
    super(message);
    this.name = "Socks5Error";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** `VER NMETHODS METHODS...` */
export function encodeMethods(methods: number[]): Uint8Array {
  return new Uint8Array([VERSION, methods.length, ...methods]);
}

/** Reads the client greeting; returns the offered methods. */
export async function readMethods(r: BufferedReader): Promise<number[]> {
  const head = await r.readExact(2, "socks5 greeting");
  if (head[0] !== VERSION) throw new Socks5Error(`bad version ${head[0]}`);
  if (head[1] === 0) throw new Socks5Error("no authentication methods offered");
  return Array.from(await r.readExact(head[1], "socks5 methods"));
}

/** `VER METHOD` */
export function encodeMethodSelection(method: number): Uint8Array {
  return new Uint8Array([VERSION, method]);
}

/** `01 ULEN UNAME PLEN PASSWD` */
export function encodeUserPass(username: string, password: string): Uint8Array {
  const u = encoder.encode(username);
  const p = encoder.encode(password);
  if (u.length > 255 || p.length > 255) throw new Socks5Error("username or password longer than 255 bytes");
  const out = new Uint8Array(3 + u.length + p.length);
  out[0] = USERPASS_VERSION;
  out[1] = u.length;
  out.set(u, 2);
  out[2 + u.length] = p.length;
  out.set(p, 3 + u.length);
  return out;
}

/** Reads an RFC 1929 request. */
export async function readUserPass(r: BufferedReader): Promise<{ username: string; password: string }> {
  const head = await r.readExact(2, "socks5 user/pass");
  if (head[0] !== USERPASS_VERSION) throw new Socks5Error(`bad user/pass version ${head[0]}`);
  const user = await r.readExact(head[1], "socks5 username");
  const plen = await r.readByte("socks5 user/pass");
  const pass = await r.readExact(plen, "socks5 password");
  return { username: decoder.decode(user), password: decoder.decode(pass) };
}

/** `01 STATUS` */
export function encodeUserPassReply(status: number): Uint8Array {
  return new Uint8Array([USERPASS_VERSION, status]);
}

/** `VER CMD RSV ATYP DST.ADDR DST.PORT` (also the reply shape: CMD is then REP). */
export function encodeRequest(cmd: number, addr: string): Uint8Array {
  const a = encodeSocksAddr(addr);
  const out = new Uint8Array(3 + a.length);
  out[0] = VERSION;
  out[1] = cmd;
  out.set(a, 3);
  return out;
}

/** A reply; `addr` is the bound address (default 0.0.0.0:0). */
export function encodeReply(rep: number, addr = "0.0.0.0:0"): Uint8Array {
  return encodeRequest(rep, addr);
}

/** Reads a request or reply: `VER CODE RSV ADDR`; returns the code and the address. */
export async function readRequest(
  r: BufferedReader,
  what = "socks5 request",
): Promise<{ code: number; addr: string; host: string; port: number }> {
  const head = await r.peek(5, what);
  if (head[0] !== VERSION) throw new Socks5Error(`bad version ${head[0]}`, Reply.Failure);
  let len: number;
  try {
    len = socksAddrLength(head, 3);
  } catch (err) {
    throw new Socks5Error((err as Error).message, Reply.AddrUnsupported);
  }
  const code = head[1];
  const buf = await r.readExact(3 + len, what);
  try {
    const a = decodeSocksAddr(buf, 3);
    return { code, addr: a.addr, host: a.host, port: a.port };
  } catch (err) {
    if (err instanceof SocksAddrError) throw new Socks5Error(err.message, Reply.AddrUnsupported);
    throw err;
  }
}
