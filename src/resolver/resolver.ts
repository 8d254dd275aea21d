/**
 * A resolver (gost's `resolvers:` entry): nameservers asked in order until one gives
 * addresses, each with its own `prefer`/`only` family, `ttl` (cache), `async` (answer from a
 * stale cache entry while asking again), `clientIP` (EDNS client subnet) and transport.
 * @module
 */
import { isIPv4, parseIPv6 } from "../core/addr.ts";
import { errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import type { DialContext } from "../core/types.ts";
import { isIP, normalizeHost } from "../hosts/hosts.ts";
import {
  addressesOf,
  type ClientSubnet,
  decodeMessage,
  encodeQuery,
  RCode,
  rcodeName,
  RRType,
} from "../protocol/dns/dns.ts";
import { DnsCache } from "./cache.ts";
import type { Exchanger } from "./exchanger.ts";

/** An address family a nameserver prefers or is limited to. */
export type IPFamily = "ipv4" | "ipv6";

/** One configured nameserver. */
export interface Nameserver {
  exchanger: Exchanger;
  /** Cache time in ms: > 0 fixed, 0 the answer's TTL, < 0 no cache. */
  ttl: number;
  prefer: IPFamily;
  /** Asks only for this family (and `prefer` is ignored). */
  only?: IPFamily;
  async: boolean;
  clientSubnet?: ClientSubnet;
}

/** Background refreshes of `async` nameservers running at once, at most (gost: 32). */
const MAX_REFRESH = 32;

/** The record type asked for a family. */
const typeOf = (f: IPFamily) => (f === "ipv4" ? RRType.A : RRType.AAAA);
const other = (f: IPFamily): IPFamily => (f === "ipv4" ? "ipv6" : "ipv4");

/** The nameserver says the name does not exist (the next nameserver is still asked, as gost). */
class NameNotFound extends Error {
  constructor(name: string) {
    super(`DNS NXDOMAIN for ${name}`);
    this.name = "NameNotFound";
  }
}

/** Resolves names through a list of nameservers, with one cache. */
export class Resolver {
  readonly cache: DnsCache;
  readonly #inflight = new Map<string, Promise<string[]>>();
  #refreshing = 0;

  constructor(
    readonly name: string,
    readonly servers: Nameserver[],
    readonly log: Logger,
    now: () => number = Date.now,
  ) {
    this.cache = new DnsCache(now);
  }

  /**
   * The addresses of `host` (an IP literal is returned as it is). Empty when no nameserver
   * knows the name; the last nameserver error is thrown when none answered at all.
   */
  async resolve(host: string, ctx: DialContext): Promise<string[]> {
    const bare = host.replace(/^\[|\]$/g, "");
    if (isIP(bare)) return [bare];
    const name = normalizeHost(bare);
    let lastErr: unknown;
    let answered = false;
    for (const ns of this.servers) {
      try {
        const ips = ns.async ? await this.#resolveAsync(ns, name, ctx) : await this.#resolve(ns, name, ctx);
        answered = true;
        this.log.debug(`resolve ${name} via ${ns.exchanger.name}: ${ips.join(", ") || "no address"}`);
        if (ips.length) return ips;
      } catch (err) {
        if (err instanceof NameNotFound) {
          answered = true;
          this.log.debug(`resolve ${name} via ${ns.exchanger.name}: ${err.message}`);
          continue;
        }
        lastErr = err;
        this.log.error(`resolve ${name} via ${ns.exchanger.name}: ${errorMessage(err)}`);
      }
    }
    if (!answered && lastErr) throw lastErr;
    return [];
  }

  /** The families to ask, in order. */
  #families(ns: Nameserver): IPFamily[] {
    return ns.only ? [ns.only] : [ns.prefer, other(ns.prefer)];
  }

  async #resolve(ns: Nameserver, name: string, ctx: DialContext): Promise<string[]> {
    let ips: string[] = [];
    for (const f of this.#families(ns)) {
      ips = await this.#query(ns, name, f, ctx);
      if (ips.length) break;
    }
    return ips;
  }

  /** From the cache even when stale, refreshing a stale entry in the background. */
  #resolveAsync(ns: Nameserver, name: string, ctx: DialContext): Promise<string[]> {
    for (const f of this.#families(ns)) {
      const hit = this.cache.get(`${name}/${f}`);
      if (!hit) continue;
      if (hit.remaining <= 0 && this.#refreshing < MAX_REFRESH) {
        this.#refreshing++;
        this.#resolve(ns, name, ctx).catch(() => {}).finally(() => this.#refreshing--);
      }
      if (hit.ips.length) return Promise.resolve(hit.ips);
    }
    return this.#resolve(ns, name, ctx);
  }

  /** One question, answered from a fresh cache entry or by the nameserver (once for all askers). */
  #query(ns: Nameserver, name: string, family: IPFamily, ctx: DialContext): Promise<string[]> {
    const key = `${name}/${family}`;
    const hit = this.cache.get(key);
    if (hit && hit.remaining > 0) return Promise.resolve(hit.ips);
    const flying = this.#inflight.get(key);
    if (flying) return flying;
    const p = this.#ask(ns, name, family, ctx).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #ask(ns: Nameserver, name: string, family: IPFamily, ctx: DialContext): Promise<string[]> {
    const type = typeOf(family);
    const id = crypto.getRandomValues(new Uint16Array(1))[0];
    const query = encodeQuery({ id, name, type, clientSubnet: ns.clientSubnet });
    const answer = decodeMessage(await ns.exchanger.exchange(query, ctx));
    if (!answer.response) throw new Error(`answer from ${ns.exchanger.name} is not a response`);
    if (answer.rcode === RCode.NXDomain) throw new NameNotFound(name);
    if (answer.rcode !== RCode.NoError) throw new Error(`DNS ${rcodeName(answer.rcode)} for ${name}`);
    const records = answer.answers.filter((r) => r.type === type);
    const ips = addressesOf(records);
    this.cache.set(`${name}/${family}`, ips, ns.ttl, answer.answers.map((r) => r.ttl));
    return ips;
  }
}

/** The client subnet gost sends for `clientIP`: /24 for IPv4, /128 for IPv6. */
export function clientSubnetOf(ip: string): ClientSubnet | undefined {
  if (isIPv4(ip)) return { family: 1, sourcePrefix: 24, address: Uint8Array.from(ip.split(".").map(Number)) };
  const v6 = parseIPv6(ip);
  return v6 ? { family: 2, sourcePrefix: 128, address: v6 } : undefined;
}
