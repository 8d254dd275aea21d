/**
 * Host/port parsing and formatting, Go `net.SplitHostPort` style.
 * @module
 */

/** A host and port pair; `host` may be empty (all interfaces / local host). */
export interface HostPort {
  host: string;
  port: number;
}

/** Thrown for an address that cannot be parsed; the message names the address. */
export class AddrError extends Error {
  constructor(addr: string, why: string) {
    super(`invalid address "${addr}": ${why}`);
    this.name = "AddrError";
  }
}

/**
 * Splits `host:port`, `[v6]:port` or `:port`. The port must be 0..65535.
 * @example splitHostPort("[::1]:80") // { host: "::1", port: 80 }
 */
export function splitHostPort(addr: string): HostPort {
  let host: string;
  let portStr: string;
  if (addr.startsWith("[")) {
    const end = addr.indexOf("]");
    if (end < 0) throw new AddrError(addr, "missing ']'");
    host = addr.slice(1, end);
    if (addr[end + 1] !== ":") throw new AddrError(addr, "missing port");
    portStr = addr.slice(end + 2);
  } else {
    const i = addr.lastIndexOf(":");
    if (i < 0) throw new AddrError(addr, "missing port");
    host = addr.slice(0, i);
    if (host.includes(":")) throw new AddrError(addr, "too many colons (IPv6 needs [brackets])");
    portStr = addr.slice(i + 1);
  }
  if (!/^\d{1,5}$/.test(portStr)) throw new AddrError(addr, `bad port "${portStr}"`);
  const port = Number(portStr);
  if (port > 65535) throw new AddrError(addr, `port ${port} out of range`);
  return { host, port };
}

/** Joins a host and port, bracketing IPv6 literals. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Formats a Deno address as `host:port` (or the path of a Unix socket). */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return joinHostPort(unmapHost(addr.hostname), addr.port);
  }
  if (addr.transport === "unix" || addr.transport === "unixpacket") return addr.path ?? "";
  return "";
}

/** Strips the `::ffff:` prefix a dual-stack socket puts on IPv4 peers. */
export function unmapHost(host: string): string {
  return host.startsWith("::ffff:") && isIPv4(host.slice(7)) ? host.slice(7) : host;
}

/** The host to dial for an address whose host is empty (gost dials the local host). */
export function dialHost(host: string): string {
  return host === "" ? "127.0.0.1" : host;
}

/** The host to listen on for an address whose host is empty (all interfaces). */
export function listenHost(host: string): string {
  return host === "" ? "0.0.0.0" : host;
}

/** The address to bind for a BIND request ("" or ":port" mean all interfaces). */
export function bindAddr(addr: string): { hostname: string; port: number } {
  if (!addr) return { hostname: "0.0.0.0", port: 0 };
  const { host, port } = splitHostPort(addr);
  return { hostname: listenHost(host), port };
}

/** True for an IPv4 dotted quad. */
export function isIPv4(host: string): boolean {
  const parts = host.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** True for an IPv6 literal (without brackets). */
export function isIPv6(host: string): boolean {
  return host.includes(":") && parseIPv6(host) !== null;
}

/** Parses an IPv6 literal into 16 bytes, or returns null. Accepts an embedded IPv4 tail. */
export function parseIPv6(host: string): Uint8Array | null {
  const zone = host.indexOf("%");
  if (zone >= 0) host = host.slice(0, zone);
  const out = new Uint8Array(16);
  const halves = host.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const res: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        if (!isIPv4(p)) return null;
        const b = p.split(".").map(Number);
        res.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return null;
        res.push(parseInt(p, 16));
      }
    }
    return res;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && head.length + tail.length > 7) return null;
  const all = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** Formats 16 bytes as a compressed IPv6 literal (RFC 5952). */
export function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  let bestStart = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}
