/**
 * `-L` and `-F` arguments → gost's config model, exactly as real gost 3 maps them (the
 * golden table in `cli-golden.json` is the oracle): scheme fallbacks from gost's own lists
 * of registered names, forward targets, port ranges, auth, TLS keys, metadata prefixes,
 * selectors, and the special query keys that become top-level components.
 *
 * Deliberate differences from gost, all in the direction of a clear error instead of a
 * config that fails later or silently does something else: malformed ports, port ranges,
 * `?auth=`, selector values and schemes with more than one `+` are errors; a scheme that
 * names neither a known handler nor a known listener is a warning. With several hosts in
 * one `-F`, each node's `tls.serverName` defaults to its own host (gost gives all of them
 * the text of the whole host list).
 * @module
 */
import type {
  AuthConfig,
  ChainConfig,
  Config,
  ForwardNodeConfig,
  HopConfig,
  NodeConfig,
  SelectorConfig,
  ServiceConfig,
  TLSConfig,
} from "../config/types.ts";
import { joinHostPort, splitHostPort } from "../core/addr.ts";
import { formatDuration, parseDuration } from "../core/duration.ts";
import type { Metadata } from "../core/options.ts";
import { type GostURL, parseGostURL, URLError } from "./url.ts";

const words = (s: string): ReadonlySet<string> => new Set(s.split(/\s+/));

/** Handler names registered in real gost 3 (go-gost/x); a scheme outside this list means `auto`. */
export const GOST_HANDLERS: ReadonlySet<string> = words(
  "auto tcp udp forward rtcp rudp runix http http2 http3 socks4 socks4a socks5 socks relay ss " +
    "ssu sshd sni dns red redir redirect redu tun tap tungo tunnel router masque file metrics " +
    "api serial unix",
);

/** Listener names registered in real gost 3; a scheme outside this list means `tcp` (`udp` for ssu). */
export const GOST_LISTENERS: ReadonlySet<string> = words(
  "tcp udp rtcp rudp runix tls mtls ws wss mws mwss h2 h2c http2 h3 http3 wt grpc pht phts " +
    "kcp quic dtls ssh sshd ohttp otls ftcp mtcp icmp icmp6 dns red redir redirect redu tun tap " +
    "tungo serial unix stdio",
);

/** Dialer names registered in real gost 3; a scheme outside this list means `tcp` (`udp` for ssu). */
export const GOST_DIALERS: ReadonlySet<string> = words(
  "tcp udp tls mtls ws wss mws mwss h2 h2c http2 h3 h3-masque http3 wt grpc pht phts kcp quic " +
    "dtls ssh sshd ohttp ohttps otls ftcp mtcp icmp icmp6 utls wg direct virtual serial unix",
);

/** Connector names registered in real gost 3; a scheme outside this list means `http`. */
export const GOST_CONNECTORS: ReadonlySet<string> = words(
  "http http2 socks4 socks4a socks5 socks ss ssu relay forward tcp sni sshd tunnel router " +
    "masque direct virtual serial unix",
);

/** Listeners whose targets make the handler of the same name (port forwarding), per gost. */
const SAME_NAME_FORWARDERS = words("tcp udp rtcp rudp tun tap dns unix runix serial");
/** Listeners that take a file path (or serial port) instead of host:port. */
const PATH_PROTOCOLS = new Set(["unix", "runix", "serial"]);
/** Handlers whose targets are host:port addresses we can check up front. */
const ADDRESS_TARGET_HANDLERS = new Set(["tcp", "udp", "rtcp", "rudp", "forward", "relay"]);

/** The result of mapping the command line: the config and any warnings worth printing. */
export interface CommandConfig {
  config: Config;
  warnings: string[];
}

/**
 * Query parameters as gost holds them: the first value of each key, lookups case-insensitive
 * (gost's metadata), deletions by exact key (gost deletes from the raw map).
 */
class Params {
  readonly map = new Map<string, unknown>();
  constructor(pairs: [string, string][] = []) {
    for (const [k, v] of pairs) if (!this.map.has(k)) this.map.set(k, v);
  }
  #find(names: string[]): unknown {
    for (const name of names) {
      const lower = name.toLowerCase();
      for (const [k, v] of this.map) if (k.toLowerCase() === lower) return v;
    }
    return undefined;
  }
  string(...names: string[]): string {
    const v = this.#find(names);
    return v === undefined || v === null ? "" : String(v);
  }
  delete(...keys: string[]): void {
    for (const k of keys) this.map.delete(k);
  }
  set(k: string, v: unknown): void {
    this.map.set(k, v);
  }
}

function fail(url: GostURL, why: string): never {
  throw new URLError(url.raw, why);
}

/** gost's GetInt for a URL value: "" → 0; anything else must be an integer. */
function intParam(url: GostURL, p: Params, ...names: string[]): number {
  const s = p.string(...names).trim();
  if (s === "") return 0;
  if (!/^-?\d+$/.test(s)) fail(url, `${names[0]}=${s}: expected an integer`);
  return Number(s);
}

function durationParam(url: GostURL, p: Params, ...names: string[]): number {
  const s = p.string(...names).trim();
  if (s === "") return 0;
  const ms = parseDuration(s);
  if (ms === null) fail(url, `${names[0]}=${s}: expected a duration like "30s" or "1m"`);
  return ms;
}

/** gost's parseSelector: emitted only when a selector key is given; then fills the defaults. */
function takeSelector(url: GostURL, p: Params): SelectorConfig | undefined {
  const strategy = p.string("strategy");
  const maxFails = intParam(url, p, "maxFails", "max_fails");
  const failTimeout = durationParam(url, p, "failTimeout", "fail_timeout");
  if (strategy === "" && maxFails <= 0 && failTimeout <= 0) return undefined;
  p.delete("strategy", "maxFails", "max_fails", "failTimeout", "fail_timeout");
  return {
    strategy: strategy || "round",
    maxFails: maxFails > 0 ? maxFails : 1,
    failTimeout: formatDuration(failTimeout > 0 ? failTimeout : 30_000),
  };
}

function decodeBase64(s: string): string | null {
  let b64 = s.replaceAll("-", "+").replaceAll("_", "/");
  if (/[^A-Za-z0-9+/=]/.test(b64)) return null;
  b64 = b64.replace(/=+$/, "");
  if (b64.length % 4 === 1) return null;
  try {
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

function makeAuth(username: string, password: string | undefined): AuthConfig {
  return password ? { username, password } : { username };
}

/** Auth from `user:pass@`, SIP002 `base64(method:password)@` for ss*, or `?auth=base64(user:pass)`. */
function takeAuth(url: GostURL, p: Params): AuthConfig | undefined {
  let auth: AuthConfig | undefined;
  if (url.user) {
    if (url.scheme.startsWith("ss") && url.user.password === undefined && url.user.username !== "") {
      const decoded = decodeBase64(url.user.username);
      const i = decoded?.indexOf(":") ?? -1;
      if (decoded && i >= 0) auth = makeAuth(decoded.slice(0, i), decoded.slice(i + 1));
    }
    auth ??= makeAuth(url.user.username, url.user.password);
  }
  const sa = p.string("auth");
  if (sa !== "" && !auth) {
    const decoded = decodeBase64(sa);
    if (decoded === null) fail(url, `auth=${sa}: expected base64 of "user:password"`);
    const i = decoded.indexOf(":");
    auth = i < 0 ? { username: decoded } : makeAuth(decoded.slice(0, i), decoded.slice(i + 1));
  }
  p.delete("auth");
  return auth;
}

const TLS_FILE_KEYS = [
  "tls.certFile",
  "certFile",
  "cert",
  "tls.keyFile",
  "keyFile",
  "key",
  "tls.caFile",
  "caFile",
  "ca",
];

function takeTLSFiles(p: Params): TLSConfig {
  const tls: TLSConfig = {};
  const cert = p.string("tls.certFile", "certFile", "cert");
  const key = p.string("tls.keyFile", "keyFile", "key");
  const ca = p.string("tls.caFile", "caFile", "ca");
  if (cert) tls.certFile = cert;
  if (key) tls.keyFile = key;
  if (ca) tls.caFile = ca;
  p.delete(...TLS_FILE_KEYS);
  return tls;
}

/** Splits `host:port` where the port may be a range `a-b`; null when it is not that shape. */
function splitRange(addr: string): { host: string; port: string } | null {
  if (addr.startsWith("[")) {
    const end = addr.indexOf("]");
    if (end < 0 || addr[end + 1] !== ":") return null;
    return { host: addr.slice(1, end), port: addr.slice(end + 2) };
  }
  const i = addr.lastIndexOf(":");
  if (i < 0 || addr.slice(0, i).includes(":")) return null;
  return { host: addr.slice(0, i), port: addr.slice(i + 1) };
}

/**
 * Expands `host:8000-8003` into one address per port; a plain `host:port` gives itself.
 * Throws an Error naming the bad port.
 */
export function expandPortRange(addr: string): string[] {
  const hp = splitRange(addr);
  if (!hp) {
    splitHostPort(addr); // throws the precise reason
    return [addr];
  }
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(hp.port);
  if (!m) throw new Error(`bad port "${hp.port}" in "${addr}" (expected a number or a range like 8000-8003)`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min > 65535 || max > 65535) throw new Error(`port out of range in "${addr}" (0-65535)`);
  if (max < min) throw new Error(`port range "${hp.port}" in "${addr}" is reversed`);
  if (m[2] === undefined) return [addr];
  const out: string[] = [];
  for (let port = min; port <= max; port++) out.push(joinHostPort(hp.host, port));
  return out;
}

/** The host of a URL host part without its port (Go's `url.Hostname()`). */
function hostname(host: string): string {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end < 0 ? host.slice(1) : host.slice(1, end);
  }
  const i = host.lastIndexOf(":");
  return i < 0 ? host : host.slice(0, i);
}

function splitSchemes(url: GostURL, scheme: string): [string, string] {
  const parts = scheme.split("+");
  if (parts.length > 2 || parts.some((s) => s === "")) {
    fail(url, `bad scheme "${scheme}" (expected "name" or "name+transport", e.g. "relay+tls")`);
  }
  return [parts[0], parts[parts.length - 1]];
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

/** Builds the services of one `-L` argument (several for a port range). */
function buildServices(arg: string, warnings: string[]): ServiceConfig[] {
  const url = parseGostURL(arg);
  const scheme = url.scheme === "https" ? "http+tls" : url.scheme;
  let [handler, listener] = splitSchemes(url, scheme);
  const schemes = scheme.split("+");

  const isPathAddr = schemes.some((s) => PATH_PROTOCOLS.has(s)) && url.host === "";
  let addrs: string[];
  if (isPathAddr) addrs = [url.path || url.host];
  else if (url.host === "") {
    if (listener !== "stdio") fail(url, `missing listen address (e.g. "${scheme}://:8080")`);
    addrs = [""];
  } else {
    try {
      addrs = expandPortRange(url.host);
    } catch (err) {
      fail(url, (err as Error).message);
    }
  }

  const known = GOST_HANDLERS.has(handler) || GOST_LISTENERS.has(listener);
  if (!GOST_HANDLERS.has(handler)) handler = "auto";
  if (!GOST_LISTENERS.has(listener)) listener = handler === "ssu" ? "udp" : "tcp";
  if (!known) {
    warnings.push(
      `-L ${
        JSON.stringify(arg)
      }: "${scheme}" names no known handler or listener; using ${handler}+${listener} (as gost does)`,
    );
  }

  const targets: ForwardNodeConfig[] = [];
  const remotes = url.path.replace(/^\/+|\/+$/g, "");
  if (remotes !== "" && !isPathAddr) {
    for (const part of remotes.split(",")) {
      let expanded = [part];
      if (!PATH_PROTOCOLS.has(listener) && part.includes(":")) {
        try {
          expanded = expandPortRange(part);
        } catch (err) {
          fail(url, `target ${(err as Error).message}`);
        }
      }
      for (const addr of expanded) targets.push({ name: `target-${targets.length}`, addr });
    }
    if (handler !== "relay") handler = SAME_NAME_FORWARDERS.has(listener) ? listener : "forward";
    if (ADDRESS_TARGET_HANDLERS.has(handler) && !PATH_PROTOCOLS.has(listener)) {
      for (const t of targets) {
        try {
          splitHostPort(t.addr);
        } catch (err) {
          fail(url, `target ${(err as Error).message}`);
        }
      }
    }
  }
  if (listener === "stdio" && targets.length === 0 && url.host !== "") {
    targets.push({ name: "target-0", addr: url.host });
    if (handler === "auto") handler = "tcp";
  }

  const p = new Params(url.query);
  const auth = takeAuth(url, p);
  const tlsFiles = takeTLSFiles(p);
  const tls = tlsFiles.certFile ? tlsFiles : undefined;

  const dns = p.string("dns");
  if (dns !== "") p.set("dns", dns.split(","));
  const iface = p.string("interface");
  if (iface !== "") {
    p.set("service.interface", iface);
    p.delete("interface");
  }
  for (const key of ["so_mark", "proxyProtocol"]) {
    const n = intParam(url, p, key);
    if (n > 0) {
      p.set(`service.${key}`, n);
      p.delete(key);
    }
  }
  for (const key of ["netns", "netns.out"]) {
    const v = p.string(key);
    if (v !== "") {
      p.set(`service.${key}`, v);
      p.delete(key);
    }
  }
  const selector = takeSelector(url, p);

  const serviceMd: Metadata = {}, handlerMd: Metadata = {}, listenerMd: Metadata = {};
  for (const [k, v] of p.map) {
    if (k.startsWith("service.")) serviceMd[k.slice(8)] = v;
    else if (k.startsWith("handler.")) handlerMd[k.slice(8)] = v;
    else if (k.startsWith("listener.")) listenerMd[k.slice(9)] = v;
    else handlerMd[k] = listenerMd[k] = serviceMd[k] = v;
  }
  const authOnListener = listener === "ssh" || listener === "sshd";

  return addrs.map((addr, i) => {
    const svc: ServiceConfig = {
      name: "",
      addr,
      handler: { type: handler },
      listener: { type: listener },
    };
    if (auth && !authOnListener) svc.handler.auth = { ...auth };
    if (Object.keys(handlerMd).length) svc.handler.metadata = { ...handlerMd };
    if (auth && authOnListener) svc.listener.auth = { ...auth };
    if (tls) svc.listener.tls = { ...tls };
    if (Object.keys(listenerMd).length) svc.listener.metadata = { ...listenerMd };
    // One target for all ports, or one target per port (extra ports get none, as in gost).
    const mine = addrs.length === 1 || targets.length === 1 ? targets : targets.slice(i, i + 1);
    if (mine.length) {
      svc.forwarder = selector ? { selector: { ...selector }, nodes: mine } : { nodes: mine };
      svc.forwarder.nodes = mine.map((t) => ({ ...t }));
    }
    if (Object.keys(serviceMd).length) svc.metadata = { ...serviceMd };
    return svc;
  });
}

/** Builds the hop of one `-F` argument (one node per comma-separated host). */
function buildHop(arg: string, index: number, cfg: Config): HopConfig {
  const url = parseGostURL(arg);
  const scheme = url.scheme === "https" ? "http+tls" : url.scheme;
  const p = new Params(url.query);
  const hop: HopConfig = { name: `hop-${index}`, nodes: [] };
  const selector = takeSelector(url, p);
  if (selector) hop.selector = selector;

  const bypass = p.string("bypass");
  if (bypass !== "") {
    const name = `bypass-${cfg.bypasses?.length ?? 0}`;
    (cfg.bypasses ??= []).push({ name, ...matcherList(bypass) });
    hop.bypass = name;
    p.delete("bypass");
  }
  const resolver = p.string("resolver");
  if (resolver !== "") {
    const name = `resolver-${cfg.resolvers?.length ?? 0}`;
    const nameservers = resolver.split(",").filter((s) => s !== "").map((addr) => ({ addr }));
    (cfg.resolvers ??= []).push(nameservers.length ? { name, nameservers } : { name });
    hop.resolver = name;
    p.delete("resolver");
  }
  const hosts = p.string("hosts");
  if (hosts !== "") {
    const name = `hosts-${cfg.hosts?.length ?? 0}`;
    (cfg.hosts ??= []).push({ name, ...hostMappings(hosts) });
    hop.hosts = name;
    p.delete("hosts");
  }
  const iface = p.string("interface");
  if (iface !== "") {
    p.set("hop.interface", iface);
    p.delete("interface");
  }
  for (const key of ["so_mark", "proxyProtocol"]) {
    const n = intParam(url, p, key);
    if (n > 0) {
      p.set(`hop.${key}`, n);
      p.delete(key);
    }
  }
  // gost takes the hop's metadata before the node consumes auth and TLS keys.
  const hopMd: Metadata = {};
  for (const [k, v] of [...p.map]) {
    if (k.startsWith("node.") || k.startsWith("connector.") || k.startsWith("dialer.")) continue;
    if (k.startsWith("hop.")) {
      hopMd[k.slice(4)] = v;
      p.delete(k);
    } else hopMd[k] = v;
  }

  const [schemeConnector, schemeDialer] = splitSchemes(url, scheme);
  const schemes = scheme.split("+");
  let connector = schemeConnector, dialer = schemeDialer;
  if (!GOST_CONNECTORS.has(connector)) connector = "http";
  if (!GOST_DIALERS.has(dialer)) dialer = connector === "ssu" ? "udp" : "tcp";

  const auth = takeAuth(url, p);
  const tls = takeTLSFiles(p);
  const secure = ["true", "1", "t"].includes(p.string("tls.secure", "secure").toLowerCase());
  if (secure) tls.secure = true;
  const serverName = p.string("tls.servername", "servername");
  p.delete("tls.secure", "secure", "tls.servername", "serverName");

  const nodeMd: Metadata = {}, connectorMd: Metadata = {}, dialerMd: Metadata = {};
  for (const [k, v] of p.map) {
    if (k.startsWith("node.")) nodeMd[k.slice(5)] = v;
    else if (k.startsWith("connector.")) connectorMd[k.slice(10)] = v;
    else if (k.startsWith("dialer.")) dialerMd[k.slice(7)] = v;
    else connectorMd[k] = dialerMd[k] = nodeMd[k] = v;
  }

  const isPathAddr = schemes.some((s) => PATH_PROTOCOLS.has(s)) && url.host === "";
  const hostList = isPathAddr ? [url.path] : url.host.split(",").filter((h) => h !== "");
  if (hostList.length === 0 || hostList[0] === "") {
    fail(url, `missing node address (e.g. "${scheme}://example.com:1080")`);
  }
  const authOnDialer = dialer === "ssh" || dialer === "sshd";
  for (const addr of hostList) {
    if (!isPathAddr) {
      try {
        splitHostPort(addr);
      } catch (err) {
        fail(url, (err as Error).message);
      }
    }
    const node: NodeConfig = {
      name: `node-${hop.nodes.length}`,
      addr,
      connector: { type: connector },
      dialer: { type: dialer },
    };
    if (auth && !authOnDialer) node.connector.auth = { ...auth };
    if (Object.keys(connectorMd).length) node.connector.metadata = { ...connectorMd };
    if (auth && authOnDialer) node.dialer.auth = { ...auth };
    const nodeTLS: TLSConfig = { ...tls };
    const sni = serverName || (isPathAddr ? "" : hostname(addr));
    if (sni) nodeTLS.serverName = sni;
    if (Object.keys(nodeTLS).length) node.dialer.tls = nodeTLS;
    if (Object.keys(dialerMd).length) node.dialer.metadata = { ...dialerMd };
    if (Object.keys(nodeMd).length) node.metadata = { ...nodeMd };
    hop.nodes.push(node);
  }
  if (Object.keys(hopMd).length) hop.metadata = hopMd;
  return hop;
}

/** Moves the special handler keys of a -L service into top-level components, as gost does. */
function extractServiceComponents(svc: ServiceConfig, cfg: Config, url: GostURL): void {
  const mh = svc.handler.metadata;
  if (!mh) return;
  const p = new Params(Object.entries(mh).map(([k, v]) => [k, v as string]));
  const str = (key: string) => p.string(key);
  const retries = intParam(url, p, "retries");
  if (retries > 0) {
    svc.handler.retries = retries;
    delete mh.retries;
  }
  const admission = str("admission");
  if (admission !== "") {
    const name = `admission-${cfg.admissions?.length ?? 0}`;
    (cfg.admissions ??= []).push({ name, ...matcherList(admission) });
    svc.admission = name;
    delete mh.admission;
  }
  const bypass = str("bypass");
  if (bypass !== "") {
    const name = `bypass-${cfg.bypasses?.length ?? 0}`;
    (cfg.bypasses ??= []).push({ name, ...matcherList(bypass) });
    svc.bypass = name;
    delete mh.bypass;
  }
  const resolver = str("resolver");
  if (resolver !== "") {
    const name = `resolver-${cfg.resolvers?.length ?? 0}`;
    const prefer = str("prefer");
    const nameservers = resolver.split(",").filter((s) => s !== "").map((addr) =>
      prefer ? { addr, prefer } : { addr }
    );
    (cfg.resolvers ??= []).push(nameservers.length ? { name, nameservers } : { name });
    svc.resolver = name;
    delete mh.resolver;
  }
  const hosts = str("hosts");
  if (hosts !== "") {
    const name = `hosts-${cfg.hosts?.length ?? 0}`;
    (cfg.hosts ??= []).push({ name, ...hostMappings(hosts) });
    svc.hosts = name;
    delete mh.hosts;
  }
  const [inRate, outRate, cin, cout] = ["limiter.in", "limiter.out", "limiter.conn.in", "limiter.conn.out"]
    .map(str);
  if (inRate || outRate || cin || cout) {
    const name = `limiter-${cfg.limiters?.length ?? 0}`;
    const limits: string[] = [];
    if (inRate || outRate) limits.push(`$ ${inRate} ${outRate}`);
    if (cin || cout) limits.push(`$$ ${cin} ${cout}`);
    (cfg.limiters ??= []).push({ name, limits });
    svc.limiter = name;
    for (const k of ["limiter.in", "limiter.out", "limiter.conn.in", "limiter.conn.out"]) delete mh[k];
  }
  const climit = intParam(url, p, "climiter");
  if (climit > 0) {
    const name = `climiter-${cfg.climiters?.length ?? 0}`;
    (cfg.climiters ??= []).push({ name, limits: [`$ ${climit}`] });
    svc.climiter = name;
    delete mh.climiter;
  }
  const rl = str("rlimiter").trim();
  if (rl !== "") {
    const rate = Number(rl);
    if (!Number.isFinite(rate)) fail(url, `rlimiter=${rl}: expected a number (requests per second)`);
    if (rate > 0) {
      const name = `rlimiter-${cfg.rlimiters?.length ?? 0}`;
      (cfg.rlimiters ??= []).push({ name, limits: [`$ ${rate}`] });
      svc.rlimiter = name;
      delete mh.rlimiter;
    }
  }
  if (Object.keys(mh).length === 0) delete svc.handler.metadata;
}

/**
 * Maps `-L` services and `-F` nodes to a config (gost's `BuildConfigFromCmd`). All `-F`
 * nodes form one chain, `chain-0`, one hop per `-F`. Throws {@link URLError} for a
 * malformed argument.
 */
export function buildConfigFromArgs(serviceArgs: string[], nodeArgs: string[]): CommandConfig {
  const cfg: Config = {};
  const warnings: string[] = [];
  let chain: ChainConfig | undefined;
  if (nodeArgs.length) {
    chain = { name: "chain-0", hops: [] };
    cfg.chains = [chain];
    nodeArgs.forEach((arg, i) => chain!.hops.push(buildHop(arg, i, cfg)));
  }
  const services: ServiceConfig[] = [];
  for (const arg of serviceArgs) {
    if (arg.trim() === "") continue;
    const url = parseGostURL(arg);
    for (const svc of buildServices(arg, warnings)) {
      svc.name = `service-${services.length}`;
      if (chain) {
        if (["rtcp", "rudp", "runix"].includes(svc.listener.type)) svc.listener.chain = chain.name;
        else svc.handler.chain = chain.name;
      }
      extractServiceComponents(svc, cfg, url);
      services.push(svc);
    }
  }
  if (services.length) cfg.services = services;
  return { config: cfg, warnings };
}
