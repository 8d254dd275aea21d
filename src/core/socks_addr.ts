/**
 * The SOCKS5 address encoding `ATYP | ADDR | PORT(2, BE)`, shared by SOCKS5, Relay's Addr
 * feature, SOCKS5/relay UDP framing and Shadowsocks.
 * @module
 */
import { formatIPv6, isIPv4, joinHostPort, parseIPv6, splitHostPort } from "./addr.ts";

export const ATYP_IPV4 = 0x01;
export const ATYP_DOMAIN = 0x03;
export const ATYP_IPV6 = 0x04;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Thrown when address bytes are malformed; `needMore` marks a merely truncated input. */
export class SocksAddrError extends Error {
  constructor(message: string, readonly needMore = false) {
    super(message);
    this.name = "SocksAddrError";
  }
}

/** Encodes `host:port` (host: IPv4, IPv6 or a domain name of up to 255 bytes). */
export function encodeSocksAddr(addr: string): Uint8Array {
  const { host, port } = splitHostPort(addr);
  return encodeSocksHostPort(host, port);
}

/** Encodes a host and port; an empty host encodes as 0.0.0.0. */
export function encodeSocksHostPort(host: string, port: number): Uint8Array {
  let out: Uint8Array;
  let off: number;
  if (host === "" || isIPv4(host)) {
    out = new Uint8Array(7);
    out[0] = ATYP_IPV4;
    if (host !== "") host.split(".").forEach((p, i) => out[1 + i] = Number(p));
    off = 5;
  } else {
    const v6 = host.includes(":") ? parseIPv6(host) : null;
    if (v6) {
      out = new Uint8Array(19);
      out[0] = ATYP_IPV6;
      out.set(v6, 1);
      off = 17;
    } else {
      const name = encoder.encode(host);
      if (name.length > 255) throw new SocksAddrError(`domain name too long (${name.length} bytes)`);
      out = new Uint8Array(4 + name.length);
      out[0] = ATYP_DOMAIN;
      out[1] = name.length;
      out.set(name, 2);
      off = 2 + name.length;
    }
  }
  out[off] = port >> 8;
  out[off + 1] = port & 0xff;
  return out;
}

/** The encoded length of the address starting at `buf[off]`, or -1 if more bytes are needed. */
export function socksAddrLength(buf: Uint8Array, off = 0): number {
  if (buf.length <= off) return -1;
  switch (buf[off]) {
    case ATYP_IPV4:
      return 7;
    case ATYP_IPV6:
      return 19;
    case ATYP_DOMAIN:
      return buf.length > off + 1 ? 4 + buf[off + 1] : -1;
    default:
      throw new SocksAddrError(`unknown address type 0x${buf[off].toString(16).padStart(2, "0")}`);
  }
}

/** Decodes the address at `buf[off]`; returns `host:port` and the bytes consumed. */
export function decodeSocksAddr(
  buf: Uint8Array,
  off = 0,
): { addr: string; host: string; port: number; length: number } {
  const len = socksAddrLength(buf, off);
  if (len < 0 || buf.length < off + len) throw new SocksAddrError("truncated address", true);
  let host: string;
  switch (buf[off]) {
    case ATYP_IPV4:
      host = Array.from(buf.subarray(off + 1, off + 5)).join(".");
      break;
    case ATYP_IPV6:
      host = formatIPv6(buf.subarray(off + 1, off + 17));
      break;
    default:
      host = decoder.decode(buf.subarray(off + 2, off + 2 + buf[off + 1]));
  }
  const port = (buf[off + len - 2] << 8) | buf[off + len - 1];
  return { addr: joinHostPort(host, port), host, port, length: len };
}
