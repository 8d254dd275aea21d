/**
 * `resolvers:` section → resolvers by name. A nameserver's fields are options with typed
 * defaults (bad values are config errors naming their path); a nameserver with `chain:` is
 * reached through that chain's router; `plugin` is refused until it exists (ignoring it would
 * resolve names with the system instead of where the user said).
 * @module
 */
import { parseDuration } from "../core/duration.ts";
import { ConfigError, errorMessage } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { defineOptions, opt, type OptionSpec, unknownKeys } from "../core/options.ts";
import type { Router } from "../core/types.ts";
import { type HostMapper, isIP } from "../hosts/hosts.ts";
import type { NameLookup } from "./resolve.ts";
import { DEFAULT_TIMEOUT, NetExchanger, parseNameserverAddr } from "./exchanger.ts";
import { clientSubnetOf, type IPFamily, type Nameserver, Resolver } from "./resolver.ts";

// deno-lint-ignore no-explicit-any
type Rec = Record<string, any>;

function isRecord(v: unknown): v is Rec {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** A duration that may be negative (`ttl: -1` turns the cache off). */
function signedDuration(name: string, def: number): OptionSpec<number> {
  return {
    names: [name],
    kind: "duration",
    default: def,
    parse(v) {
      const neg = (typeof v === "number" && v < 0) || (typeof v === "string" && v.trim().startsWith("-"));
      const ms = parseDuration(typeof v === "number" ? Math.abs(v) : neg ? String(v).trim().slice(1) : v);
      if (ms === null) {
        throw new Error(`expected a duration like "30s", or a negative one to turn the cache off`);
      }
      return neg ? -ms : ms;
    },
  };
}

function family(name: string, allowEmpty: boolean): OptionSpec<IPFamily | ""> {
  return {
    names: [name],
    kind: "ipv4|ipv6",
    default: allowEmpty ? "" : "ipv4",
    parse(v) {
      const s = String(v).trim().toLowerCase();
      if (s === "ipv4" || s === "ip4") return "ipv4";
      if (s === "ipv6" || s === "ip6") return "ipv6";
      if (s === "" && allowEmpty) return "";
      throw new Error("expected ipv4 or ipv6");
    },
  };
}

/** The fields of one nameserver (gost's NameserverConfig). */
export const nameserverOptions = defineOptions({
  addr: opt.string("addr", ""),
  chain: opt.string("chain", ""),
  prefer: family("prefer", false),
  only: family("only", true),
  clientIP: opt.string("clientIP", ""),
  hostname: opt.string("hostname", ""),
  ttl: signedDuration("ttl", 0),
  timeout: opt.duration("timeout", DEFAULT_TIMEOUT),
  async: opt.bool("async", false),
});

/** Returns the router of a chain by name, or undefined when there is no such chain. */
export type ChainRouterOf = (name: string) => Router | undefined;

function buildNameserver(
  cfg: Rec,
  path: string,
  routerOf: ChainRouterOf,
  direct: Router,
  chainNames: string[],
): Nameserver {
  const o = nameserverOptions.parse(cfg, path);
  if (o.addr.trim() === "") {
    throw new ConfigError(`${path}.addr`, "a nameserver needs an address (e.g. udp://1.1.1.1:53)");
  }
  let ns;
  try {
    ns = parseNameserverAddr(o.addr);
  } catch (err) {
    throw new ConfigError(`${path}.addr`, errorMessage(err));
  }
  let router = direct;
  if (o.chain !== "") {
    const r = routerOf(o.chain);
    if (!r) {
      throw new ConfigError(
        `${path}.chain`,
        `chain ${JSON.stringify(o.chain)} does not exist (defined: ${chainNames.join(", ") || "none"})`,
      );
    }
    router = r;
  }
  let clientSubnet;
  if (o.clientIP !== "") {
    if (!isIP(o.clientIP)) {
      throw new ConfigError(`${path}.clientIP`, `${JSON.stringify(o.clientIP)} is not an IP address`);
    }
    clientSubnet = clientSubnetOf(o.clientIP);
  }
  const timeout = o.timeout > 0 ? o.timeout : DEFAULT_TIMEOUT;
  return {
    exchanger: new NetExchanger(o.addr, ns, router, { timeout, hostname: o.hostname }),
    // A nameserver that does not cache cannot answer from the cache (gost turns async off).
    async: o.ttl < 0 ? false : o.async,
    ttl: o.ttl,
    prefer: o.only || o.prefer as IPFamily,
    only: o.only || undefined,
    clientSubnet,
  };
}

/** Builds every entry of `resolvers:`; problems go to `errors`. */
export function buildResolvers(
  section: unknown,
  errors: ConfigError[],
  warnings: string[],
  log: Logger,
  routerOf: ChainRouterOf,
  direct: Router,
  chainNames: string[],
): Map<string, Resolver> {
  const out = new Map<string, Resolver>();
  if (section === undefined || section === null) return out;
  if (!Array.isArray(section)) {
    errors.push(new ConfigError("resolvers", "expected a list of resolvers"));
    return out;
  }
  const seen = new Set<string>();
  section.forEach((cfg, i) => {
    const path = `resolvers[${i}]`;
    if (!isRecord(cfg)) {
      return errors.push(new ConfigError(path, "expected a mapping with name and nameservers"));
    }
    if (typeof cfg.name !== "string" || cfg.name === "") {
      return errors.push(new ConfigError(`${path}.name`, "a resolver needs a name"));
    }
    if (seen.has(cfg.name)) {
      return errors.push(
        new ConfigError(`${path}.name`, `duplicate resolver name ${JSON.stringify(cfg.name)}`),
      );
    }
    seen.add(cfg.name);
    const rlog = log.with({ kind: "resolver", resolver: cfg.name });
    // One that fails stays defined (without nameservers): references to it are not errors too.
    out.set(cfg.name, new Resolver(cfg.name, [], rlog));
    if (cfg.plugin !== undefined && cfg.plugin !== null) {
      return errors.push(
        new ConfigError(
          `${path}.plugin`,
          "resolver plugins are not supported yet; refusing to start rather than resolve names elsewhere",
        ),
      );
    }
    const list = cfg.nameservers ?? [];
    if (!Array.isArray(list)) return errors.push(new ConfigError(`${path}.nameservers`, "expected a list"));
    if (list.length === 0) {
      return errors.push(new ConfigError(`${path}.nameservers`, "a resolver needs at least one nameserver"));
    }
    const servers: Nameserver[] = [];
    list.forEach((ns, j) => {
      const npath = `${path}.nameservers[${j}]`;
      if (!isRecord(ns)) return errors.push(new ConfigError(npath, "expected a mapping with addr"));
      try {
        servers.push(buildNameserver(ns, npath, routerOf, direct, chainNames));
        for (const k of unknownKeys(ns, [nameserverOptions])) {
          warnings.push(`${npath}.${k}: unknown field, ignored`);
        }
      } catch (err) {
        errors.push(err instanceof ConfigError ? err : new ConfigError(npath, errorMessage(err)));
      }
    });
    out.set(cfg.name, new Resolver(cfg.name, servers, rlog));
  });
  return out;
}

/** The names of a hosts mapper and a resolver that a service, hop or node refers to. */
export type NameRefs = { hosts?: unknown; resolver?: unknown };

/**
 * The hosts and resolver `owner` (a service, hop or node) names; a name that is not defined
 * is a config error at `path.hosts` / `path.resolver` listing the defined ones.
 */
export function nameLookup(
  owner: NameRefs,
  path: string,
  hosts: Map<string, HostMapper>,
  resolvers: Map<string, Resolver>,
  errors: ConfigError[],
): NameLookup | undefined {
  const find = <T>(key: "hosts" | "resolver", defined: Map<string, T>, section: string): T | undefined => {
    const name = owner[key];
    if (name === undefined || name === null || name === "") return undefined;
    const found = defined.get(String(name));
    if (!found) {
      errors.push(
        new ConfigError(
          `${path}.${key}`,
          `${section} ${JSON.stringify(name)} does not exist (defined: ${
            [...defined.keys()].join(", ") || "none"
          })`,
        ),
      );
    }
    return found;
  };
  const h = find("hosts", hosts, "hosts");
  const r = find("resolver", resolvers, "resolver");
  return h || r ? { hosts: h, resolver: r } : undefined;
}
