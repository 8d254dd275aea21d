/**
 * Query keys that gost's command line turns into top-level sections, each named
 * `<kind>-<index>` and referred to by its service or hop: `?admission=`, `?bypass=`,
 * `?resolver=` (with `?prefer=`), `?hosts=`, the limiter keys, and a service's `?retries=`.
 * @module
 */
import type { Config, ServiceConfig } from "../config/types.ts";
import { fail, intParam, Params } from "./params.ts";
import type { GostURL } from "./url.ts";

/** The sections this module appends to. */
type NamedSection =
  | "admissions"
  | "bypasses"
  | "resolvers"
  | "hosts"
  | "limiters"
  | "climiters"
  | "rlimiters";

/** Appends `entry` to section `key` of `cfg`, named `<prefix>-<its index>`; returns the name. */
function addNamed(cfg: Config, key: NamedSection, prefix: string, entry: object): string {
  const list = (cfg[key] ??= []) as { name: string }[];
  const name = `${prefix}-${list.length}`;
  list.push({ name, ...entry });
  return name;
}

function matcherList(value: string): { whitelist?: boolean; matchers?: string[] } {
  const out: { whitelist?: boolean; matchers?: string[] } = {};
  if (value.startsWith("~")) {
    out.whitelist = true;
    value = value.slice(1);
  }
  const matchers = value.split(",").filter((s) => s !== "");
  if (matchers.length) out.matchers = matchers;
  return out;
}

function hostMappings(value: string) {
  const mappings = [];
  for (const s of value.split(",")) {
    const i = s.indexOf(":");
    if (i < 0) continue;
    mappings.push({ ip: s.slice(i + 1), hostname: s.slice(0, i) });
  }
  return mappings.length ? { mappings } : {};
}

/**
 * Moves `?bypass=`, `?resolver=` and `?hosts=` of a hop or service out of `p` into sections of
 * `cfg` that `owner` names; `prefer` (a service's `?prefer=`) goes on each nameserver.
 */
export function takeLookupSections(
  p: Params,
  cfg: Config,
  owner: { bypass?: string; resolver?: string; hosts?: string },
  prefer = "",
): void {
  const bypass = p.string("bypass");
  if (bypass !== "") {
    owner.bypass = addNamed(cfg, "bypasses", "bypass", matcherList(bypass));
    p.delete("bypass");
  }
  const resolver = p.string("resolver");
  if (resolver !== "") {
    const nameservers = resolver.split(",").filter((s) => s !== "").map((addr) =>
      prefer ? { addr, prefer } : { addr }
    );
    owner.resolver = addNamed(cfg, "resolvers", "resolver", nameservers.length ? { nameservers } : {});
    p.delete("resolver");
  }
  const hosts = p.string("hosts");
  if (hosts !== "") {
    owner.hosts = addNamed(cfg, "hosts", "hosts", hostMappings(hosts));
    p.delete("hosts");
  }
}

/** Moves the special handler keys of a -L service into top-level components, as gost does. */
export function extractServiceComponents(svc: ServiceConfig, cfg: Config, url: GostURL): void {
  if (!svc.handler.metadata) return;
  const p = new Params(Object.entries(svc.handler.metadata));
  const retries = intParam(url, p, "retries");
  if (retries > 0) {
    svc.handler.retries = retries;
    p.delete("retries");
  }
  const admission = p.string("admission");
  if (admission !== "") {
    svc.admission = addNamed(cfg, "admissions", "admission", matcherList(admission));
    p.delete("admission");
  }
  takeLookupSections(p, cfg, svc, p.string("prefer"));
  takeLimiters(url, p, cfg, svc);
  if (p.map.size) svc.handler.metadata = Object.fromEntries(p.map);
  else delete svc.handler.metadata;
}

/** `?limiter.in=` … `?limiter.conn.out=`, `?climiter=`, `?rlimiter=` → the three limiter sections. */
function takeLimiters(url: GostURL, p: Params, cfg: Config, svc: ServiceConfig): void {
  const trafficKeys = ["limiter.in", "limiter.out", "limiter.conn.in", "limiter.conn.out"];
  const [inRate, outRate, cin, cout] = trafficKeys.map((k) => p.string(k));
  if (inRate || outRate || cin || cout) {
    const limits: string[] = [];
    if (inRate || outRate) limits.push(`$ ${inRate} ${outRate}`);
    if (cin || cout) limits.push(`$$ ${cin} ${cout}`);
    svc.limiter = addNamed(cfg, "limiters", "limiter", { limits });
    p.delete(...trafficKeys);
  }
  const climit = intParam(url, p, "climiter");
  if (climit > 0) {
    svc.climiter = addNamed(cfg, "climiters", "climiter", { limits: [`$ ${climit}`] });
    p.delete("climiter");
  }
  const rl = p.string("rlimiter").trim();
  if (rl === "") return;
  const rate = Number(rl);
  if (!Number.isFinite(rate)) fail(url, `rlimiter=${rl}: expected a number (requests per second)`);
  if (rate > 0) {
    svc.rlimiter = addNamed(cfg, "rlimiters", "rlimiter", { limits: [`$ ${rate}`] });
    p.delete("rlimiter");
  }
}
