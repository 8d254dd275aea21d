/**
 * Address patterns as gost's bypass, admission and limiter lists write them, and a matcher that
 * answers "does this host (and port) match any of them" without scanning the list:
 *
 * | pattern | matches |
 * |---|---|
 * | `10.1.2.3`, `::1` | that IP (IPv4-mapped IPv6 counts as IPv4) |
 * | `10.0.0.0/8`, `2001:db8::/32` | the IPs in the network |
 * | `192.168.1.1-192.168.1.100` | the IPs in the range, ends included |
 * | `example.com` | that host name only |
 * | `.example.org` | the name and every name under it |
 * | `*.example.com` | names under it, not the name itself |
 * | `www.*.net`, `host-??` | a glob (`*` any run, `?` one character) |
 *
 * Each may end in `:port` or `:min-max` (`[v6]:port` for an IPv6 literal); without one it applies
 * to every port. A name pattern never matches an IP literal: `localhost` is not resolved first.
 * Lookups use sets, maps per CIDR prefix length, sorted merged ranges and suffix maps; only
 * glob patterns and port-restricted IP ranges are tested one by one.
 * @module
 */
import { parseIPv6 } from "./addr.ts";

/** An inclusive port range. */
export type PortRange = readonly [number, number];
/** The ports an entry applies to; null for every port. */
export type Ports = readonly PortRange[] | null;

/** An IP as a number: IPv4 as an unsigned 32-bit number, IPv6 as a 128-bit bigint. */
export type IP = { v: 4; n: number } | { v: 6; n: bigint };

/** One parsed pattern. */
export type Pattern =
  | { kind: "ip"; ip: IP; ports: Ports }
  | { kind: "cidr"; ip: IP; bits: number; ports: Ports }
  | { kind: "range"; lo: IP; hi: IP; ports: Ports }
  | { kind: "domain"; name: string; ports: Ports }
  | { kind: "domainTree"; name: string; ports: Ports }
  | { kind: "subdomains"; name: string; ports: Ports }
  | { kind: "glob"; re: RegExp; ports: Ports };

/** A pattern that cannot be understood; the message names it and says why. */
export class MatcherError extends Error {
  constructor(readonly pattern: string, why: string) {
    super(`invalid matcher ${JSON.stringify(pattern)}: ${why}`);
    this.name = "MatcherError";
  }
}

/** Parses an IPv4 dotted quad into a number, or -1; no allocation (it runs on every lookup). */
export function parseIPv4(s: string): number {
  let n = 0, part = 0, digits = 0, dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return n * 256 + part;
}

const V4_MAPPED = 0xffffn << 32n;

/** Parses an IPv4 or IPv6 literal (IPv4-mapped IPv6 becomes IPv4), or null. */
export function parseIP(s: string): IP | null {
  const v4 = parseIPv4(s);
  if (v4 >= 0) return { v: 4, n: v4 };
  if (!s.includes(":")) return null;
  const b = parseIPv6(s);
  if (!b) return null;
  let n = 0n;
  for (let i = 0; i < 16; i++) n = (n << 8n) | BigInt(b[i]);
  if (n >> 32n === 0xffffn) return { v: 4, n: Number(n - V4_MAPPED) };
  return { v: 6, n };
}

function parsePorts(spec: string, pattern: string): Ports {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(spec);
  if (!m) throw new MatcherError(pattern, `bad port ${JSON.stringify(spec)} (expected a port or min-max)`);
  const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi > 65535) throw new MatcherError(pattern, `port ${hi} out of range`);
  if (lo > hi) throw new MatcherError(pattern, `port range ${spec} is empty`);
  return lo === 0 && hi === 65535 ? null : [[lo, hi]];
}

/** Splits the optional `:port` off a pattern (a bare IPv6 literal has none). */
function splitPattern(p: string): [string, Ports] {
  if (p.startsWith("[")) {
    const end = p.indexOf("]");
    if (end < 0) throw new MatcherError(p, "missing ']'");
    const rest = p.slice(end + 1);
    if (rest === "") return [p.slice(1, end), null];
    if (!rest.startsWith(":")) throw new MatcherError(p, "expected :port after ']'");
    return [p.slice(1, end), parsePorts(rest.slice(1), p)];
  }
  const first = p.indexOf(":");
  if (first < 0 || first !== p.lastIndexOf(":")) return [p, null];
  return [p.slice(0, first), parsePorts(p.slice(first + 1), p)];
}

const NAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;
const GLOB = /^[a-z0-9_.*?-]+$/;

function maskOf(ip: IP, bits: number): IP {
  if (ip.v === 4) {
    return { v: 4, n: bits === 0 ? 0 : ip.n - (ip.n % 2 ** (32 - bits)) };
  }
  const low = (1n << BigInt(128 - bits)) - 1n;
  return { v: 6, n: ip.n & ~low };
}

/** Parses one pattern; throws {@link MatcherError} for one that is malformed. */
export function parsePattern(raw: string): Pattern {
  const p = raw.trim();
  if (p === "") throw new MatcherError(raw, "empty");
  const [hostRaw, ports] = splitPattern(p);
  const host = hostRaw.toLowerCase().replace(/\.$/, "");
  if (host === "") throw new MatcherError(raw, "no host");
  const slash = host.indexOf("/");
  if (slash >= 0) {
    const ip = parseIP(host.slice(0, slash));
    const bitsText = host.slice(slash + 1);
    if (!ip) throw new MatcherError(raw, "the network of a CIDR must be an IP address");
    const max = ip.v === 4 ? 32 : 128;
    const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
    if (bits < 0 || bits > max) throw new MatcherError(raw, `prefix length must be 0..${max}`);
    return { kind: "cidr", ip: maskOf(ip, bits), bits, ports };
  }
  const ip = parseIP(host);
  if (ip) return { kind: "ip", ip, ports };
  const dash = host.indexOf("-");
  if (dash >= 0 && !host.includes("*") && !host.includes("?")) {
    const lo = parseIP(host.slice(0, dash).trim()), hi = parseIP(host.slice(dash + 1).trim());
    if (lo || hi || host.includes(":")) {
      if (!lo || !hi) throw new MatcherError(raw, "an IP range needs an IP address on both sides of '-'");
      if (lo.v !== hi.v) throw new MatcherError(raw, "an IP range cannot mix IPv4 and IPv6");
      if (lo.n > hi.n) throw new MatcherError(raw, "the IP range is empty (first address above the last)");
      return { kind: "range", lo, hi, ports };
    }
  }
  if (host.startsWith("*.") && NAME.test(host.slice(2))) {
    return { kind: "subdomains", name: host.slice(2), ports };
  }
  if (host.startsWith(".") && NAME.test(host.slice(1))) {
    return { kind: "domainTree", name: host.slice(1), ports };
  }
  if (NAME.test(host)) return { kind: "domain", name: host, ports };
  if ((host.includes("*") || host.includes("?")) && GLOB.test(host)) {
    const src = host.replace(/[.]/g, "\\.").replace(/\*/g, ".*").replace(/\?/g, ".");
    return { kind: "glob", re: new RegExp(`^${src}$`), ports };
  }
  throw new MatcherError(
    raw,
    "expected an IP, CIDR, IP range (a-b), host name, .domain, *.domain or a glob, optionally with :port",
  );
}

function unionPorts(a: Ports | undefined, b: Ports): Ports {
  if (a === undefined) return b;
  if (a === null || b === null) return null;
  return [...a, ...b];
}

/** True when `ports` lets `port` through (an entry with ports never matches a query without one). */
function portsAllow(ports: Ports | undefined, port: number | undefined): boolean {
  if (ports === undefined) return false;
  if (ports === null) return true;
  if (port === undefined) return false;
  for (const [lo, hi] of ports) if (port >= lo && port <= hi) return true;
  return false;
}

function addTo<K>(map: Map<K, Ports>, key: K, ports: Ports): void {
  map.set(key, unionPorts(map.get(key), ports));
}

function succ<N extends number | bigint>(n: N): N {
  return (typeof n === "bigint" ? n + 1n : (n as number) + 1) as N;
}

/** Disjoint sorted ranges (any port) with binary search. */
class RangeSet<N extends number | bigint> {
  #lo: N[] = [];
  #hi: N[] = [];
  constructor(ranges: [N, N][]) {
    ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [lo, hi] of ranges) {
      const last = this.#hi.length - 1;
      // Merge overlapping or adjacent ranges (adjacent: last hi + 1 == lo).
      if (last >= 0 && lo <= succ(this.#hi[last])) {
        if (hi > this.#hi[last]) this.#hi[last] = hi;
      } else {
        this.#lo.push(lo);
        this.#hi.push(hi);
      }
    }
  }
  has(n: N): boolean {
    let a = 0, b = this.#lo.length - 1;
    while (a <= b) {
      const m = (a + b) >> 1;
      if (this.#lo[m] > n) b = m - 1;
      else if (this.#hi[m] < n) a = m + 1;
      else return true;
    }
    return false;
  }
}

/** The entries of one IP family. */
class Family<N extends number | bigint> {
  readonly exact = new Map<N, Ports>();
  /** CIDRs: per prefix length, network → ports. */
  readonly nets = new Map<number, Map<N, Ports>>();
  bitsList: number[] = [];
  anyPortRanges: RangeSet<N> = new RangeSet<N>([]);
  readonly portRanges: { lo: N; hi: N; ports: Ports }[] = [];
}

/** A precomputed set of {@link Pattern}s. */
export class AddressMatcher {
  readonly #v4 = new Family<number>();
  readonly #v6 = new Family<bigint>();
  readonly #names = new Map<string, Ports>();
  readonly #trees = new Map<string, Ports>();
  readonly #subs = new Map<string, Ports>();
  readonly #globs: { re: RegExp; ports: Ports }[] = [];
  /** Number of patterns it was built from. */
  readonly size: number;

  constructor(patterns: readonly Pattern[]) {
    this.size = patterns.length;
    const ranges4: [number, number][] = [], ranges6: [bigint, bigint][] = [];
    for (const p of patterns) {
      switch (p.kind) {
        case "ip":
          if (p.ip.v === 4) addTo(this.#v4.exact, p.ip.n, p.ports);
          else addTo(this.#v6.exact, p.ip.n, p.ports);
          break;
        case "cidr": {
          const fam: Family<number | bigint> = p.ip.v === 4 ? this.#v4 : this.#v6;
          let m = fam.nets.get(p.bits);
          if (!m) fam.nets.set(p.bits, m = new Map());
          addTo(m, p.ip.n, p.ports);
          break;
        }
        case "range":
          if (p.ports !== null) {
            (p.lo.v === 4 ? this.#v4 : this.#v6 as Family<number | bigint>).portRanges.push({
              lo: p.lo.n,
              hi: p.hi.n,
              ports: p.ports,
            });
          } else if (p.lo.v === 4) ranges4.push([p.lo.n, p.hi.n as number]);
          else ranges6.push([p.lo.n, p.hi.n as bigint]);
          break;
        case "domain":
          addTo(this.#names, p.name, p.ports);
          break;
        case "domainTree":
          addTo(this.#trees, p.name, p.ports);
          break;
        case "subdomains":
          addTo(this.#subs, p.name, p.ports);
          break;
        case "glob":
          this.#globs.push({ re: p.re, ports: p.ports });
      }
    }
    this.#v4.anyPortRanges = new RangeSet(ranges4);
    this.#v6.anyPortRanges = new RangeSet(ranges6);
    for (const f of [this.#v4, this.#v6] as Family<number | bigint>[]) {
      f.bitsList = [...f.nets.keys()].sort((a, b) => b - a);
    }
  }

  /** Parses every pattern; malformed ones are returned with their index instead of thrown. */
  static parse(
    patterns: readonly string[],
  ): { matcher: AddressMatcher; errors: { index: number; message: string }[] } {
    const parsed: Pattern[] = [];
    const errors: { index: number; message: string }[] = [];
    patterns.forEach((s, index) => {
      try {
        parsed.push(parsePattern(String(s)));
      } catch (err) {
        errors.push({ index, message: (err as Error).message });
      }
    });
    return { matcher: new AddressMatcher(parsed), errors };
  }

  /** True when `host` (an IP literal or a name, no brackets) and `port` match an entry. */
  match(host: string, port?: number): boolean {
    const v4 = parseIPv4(host);
    if (v4 >= 0) return this.#matchIP({ v: 4, n: v4 }, port) || this.#matchGlob(host, port);
    if (host.includes(":")) {
      const ip = parseIP(host);
      if (ip) return this.#matchIP(ip, port) || this.#matchGlob(host.toLowerCase(), port);
    }
    let name = host.toLowerCase();
    if (name.endsWith(".")) name = name.slice(0, -1);
    return this.#matchName(name, port) || this.#matchGlob(name, port);
  }

  /** {@link match} on `host:port`, `[v6]:port`, or a bare host. */
  matchAddr(addr: string): boolean {
    if (addr.startsWith("[")) {
      const end = addr.indexOf("]");
      const port = end > 0 && addr[end + 1] === ":" ? Number(addr.slice(end + 2)) : undefined;
      return this.match(addr.slice(1, end < 0 ? undefined : end), port);
    }
    const i = addr.lastIndexOf(":");
    if (i < 0 || addr.indexOf(":") !== i) return this.match(addr);
    return this.match(addr.slice(0, i), Number(addr.slice(i + 1)));
  }

  #matchIP(ip: IP, port: number | undefined): boolean {
    const f = (ip.v === 4 ? this.#v4 : this.#v6) as Family<number | bigint>;
    if (portsAllow(f.exact.get(ip.n), port)) return true;
    for (const bits of f.bitsList) {
      const net = maskOf(ip, bits).n;
      if (portsAllow(f.nets.get(bits)!.get(net), port)) return true;
    }
    if (f.anyPortRanges.has(ip.n)) return true;
    for (const r of f.portRanges) if (ip.n >= r.lo && ip.n <= r.hi && portsAllow(r.ports, port)) return true;
    return false;
  }

  #matchName(name: string, port: number | undefined): boolean {
    if (portsAllow(this.#names.get(name), port) || portsAllow(this.#trees.get(name), port)) return true;
    if (this.#trees.size === 0 && this.#subs.size === 0) return false;
    for (let i = name.indexOf("."); i >= 0; i = name.indexOf(".", i + 1)) {
      const suffix = name.slice(i + 1);
      if (portsAllow(this.#trees.get(suffix), port) || portsAllow(this.#subs.get(suffix), port)) return true;
    }
    return false;
  }

  #matchGlob(host: string, port: number | undefined): boolean {
    for (const g of this.#globs) if (g.re.test(host) && portsAllow(g.ports, port)) return true;
    return false;
  }
}
