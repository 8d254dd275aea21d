/**
 * Values per client IP and per CIDR, looked up the way gost's limiters do: an exact IP first,
 * else the CIDR that contains the address — the broadest one when several do (gost walks its
 * CIDR trie from the root and takes the first hit). Parsing is the core matcher's; lookups are
 * one map probe per distinct prefix length, never a scan of the entries.
 * @module
 */
import { type IP, parseIP, parsePattern } from "../core/matcher.ts";

const keyOf = (ip: IP) => `${ip.v}/${ip.n}`;

/** The IP or CIDR a limit scope names, or null when it is neither (a port is not allowed). */
export function parseAddressScope(s: string): { ip: IP; bits: number | null } | null {
  try {
    const p = parsePattern(s);
    if (p.ports !== null) return null;
    if (p.kind === "ip") return { ip: p.ip, bits: null };
    if (p.kind === "cidr") return { ip: p.ip, bits: p.bits };
  } catch {
    // not an address: the caller reports the scope
  }
  return null;
}

/** True when `s` is an IP or a CIDR. */
export const isAddressScope = (s: string): boolean => parseAddressScope(s) !== null;

/** IPs and CIDRs mapped to values. */
export class IpTable<T> {
  readonly #exact = new Map<string, T>();
  /** Per family, prefix length → network → value. */
  readonly #nets = new Map<string, Map<string, T>>();
  /** Prefix lengths per family, broadest first. */
  readonly #bits: Record<4 | 6, number[]> = { 4: [], 6: [] };

  /** Adds (or replaces) the value of an IP or CIDR scope; false when `scope` is neither. */
  set(scope: string, value: T): boolean {
    const a = parseAddressScope(scope);
    if (!a) return false;
    if (a.bits === null) {
      this.#exact.set(keyOf(a.ip), value);
      return true;
    }
    const fam = `${a.ip.v}/${a.bits}`;
    let m = this.#nets.get(fam);
    if (!m) {
      this.#nets.set(fam, m = new Map());
      this.#bits[a.ip.v].push(a.bits);
      this.#bits[a.ip.v].sort((x, y) => x - y);
    }
    m.set(keyOf(a.ip), value);
    return true;
  }

  /** True when nothing was added. */
  get empty(): boolean {
    return this.#exact.size === 0 && this.#nets.size === 0;
  }

  /** The value for `host` (an IP literal): its own entry, else its broadest containing CIDR's. */
  lookup(host: string): { value: T; exact: boolean } | undefined {
    if (this.empty) return undefined;
    const ip = parseIP(host);
    if (!ip) return undefined;
    const own = this.#exact.get(keyOf(ip));
    if (own !== undefined) return { value: own, exact: true };
    for (const bits of this.#bits[ip.v]) {
      const net = parseAddressScope(`${host}/${bits}`);
      if (!net) continue;
      const v = this.#nets.get(`${ip.v}/${bits}`)?.get(keyOf(net.ip));
      if (v !== undefined) return { value: v, exact: false };
    }
    return undefined;
  }
}
