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
  ServiceConfig,
  TLSConfig,
} from "../config/types.ts";
import { joinHostPort, splitHostPort } from "../core/addr.ts";
import type { Metadata } from "../core/options.ts";
import { fail, intParam, Params, takeAuth, takeSelector, takeTLSFiles } from "./params.ts";
import { extractServiceComponents, takeLookupSections } from "./sections.ts";
import { type GostURL, parseGostURL } from "./url.ts";

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

/** The listen addresses of a `-L` URL: a path, one host:port, or one per port of a range. */
function listenAddrs(url: GostURL, scheme: string, listener: string, isPathAddr: boolean): string[] {
  if (isPathAddr) return [url.path || url.host];
  if (url.host === "") {
    if (listener !== "stdio") fail(url, `missing listen address (e.g. "${scheme}://:8080")`);
    return [""];
  }
  try {
    return expandPortRange(url.host);
  } catch (err) {
    fail(url, (err as Error).message);
  }
}

/** The forward targets in a `-L` URL's path (`/host:port,host:a-b`), port ranges expanded. */
function pathTargets(url: GostURL, listener: string, isPathAddr: boolean): ForwardNodeConfig[] {
  const targets: ForwardNodeConfig[] = [];
  const remotes = url.path.replace(/^\/+|\/+$/g, "");
  if (remotes === "" || isPathAddr) return targets;
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
  return targets;
}

/** Checks that the targets are host:port where `handler` needs addresses. */
function checkTargets(url: GostURL, handler: string, listener: string, targets: ForwardNodeConfig[]): void {
  if (!ADDRESS_TARGET_HANDLERS.has(handler) || PATH_PROTOCOLS.has(listener)) return;
  for (const t of targets) {
    try {
      splitHostPort(t.addr);
    } catch (err) {
      fail(url, `target ${(err as Error).message}`);
    }
  }
}

/**
 * Moves `?interface=`, `?so_mark=`, `?proxyProtocol=` and the `extra` string keys under
 * `<owner>.` (gost's `service.` or `hop.` keys), in gost's order.
 */
function moveUnder(url: GostURL, p: Params, owner: string, extra: string[] = []): void {
  const iface = p.string("interface");
  if (iface !== "") {
    p.set(`${owner}.interface`, iface);
    p.delete("interface");
  }
  for (const key of ["so_mark", "proxyProtocol"]) {
    const n = intParam(url, p, key);
    if (n > 0) {
      p.set(`${owner}.${key}`, n);
      p.delete(key);
    }
  }
  for (const key of extra) {
    const v = p.string(key);
    if (v !== "") {
      p.set(`${owner}.${key}`, v);
      p.delete(key);
    }
  }
}

/**
 * Splits the remaining keys of `p` over a group's three places (`service`, `handler`, `listener`;
 * `node`, `connector`, `dialer`): a key prefixed `<place>.` goes to that place without the
 * prefix, any other key to all three, as gost copies them.
 */
function splitMetadata(p: Params, places: readonly [string, string, string]): [Metadata, Metadata, Metadata] {
  const out: [Metadata, Metadata, Metadata] = [{}, {}, {}];
  for (const [k, v] of p.map) {
    const i = places.findIndex((place) => k.startsWith(`${place}.`));
    if (i >= 0) out[i][k.slice(places[i].length + 1)] = v;
    else for (const md of out) md[k] = v;
  }
  return out;
}

/** Builds the services of one `-L` argument (several for a port range). */
function buildServices(arg: string, warnings: string[]): ServiceConfig[] {
  const url = parseGostURL(arg);
  const scheme = url.scheme === "https" ? "http+tls" : url.scheme;
  let [handler, listener] = splitSchemes(url, scheme);
  const isPathAddr = scheme.split("+").some((s) => PATH_PROTOCOLS.has(s)) && url.host === "";
  const addrs = listenAddrs(url, scheme, listener, isPathAddr);

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

  const targets = pathTargets(url, listener, isPathAddr);
  if (targets.length) {
    if (handler !== "relay") handler = SAME_NAME_FORWARDERS.has(listener) ? listener : "forward";
    checkTargets(url, handler, listener, targets);
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
  moveUnder(url, p, "service", ["netns", "netns.out"]);
  const selector = takeSelector(url, p);
  const [serviceMd, handlerMd, listenerMd] = splitMetadata(p, ["service", "handler", "listener"]);
  const authOnListener = listener === "ssh" || listener === "sshd";

  return addrs.map((addr, i) => {
    const svc: ServiceConfig = { name: "", addr, handler: { type: handler }, listener: { type: listener } };
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

/** What every node of one `-F` shares. */
interface NodeParts {
  connector: string;
  dialer: string;
  auth?: AuthConfig;
  tls: TLSConfig;
  serverName: string;
  isPathAddr: boolean;
  md: [node: Metadata, connector: Metadata, dialer: Metadata];
}

/** Builds the hop of one `-F` argument (one node per comma-separated host). */
function buildHop(arg: string, index: number, cfg: Config): HopConfig {
  const url = parseGostURL(arg);
  const scheme = url.scheme === "https" ? "http+tls" : url.scheme;
  const p = new Params(url.query);
  const hop: HopConfig = { name: `hop-${index}`, nodes: [] };
  const selector = takeSelector(url, p);
  if (selector) hop.selector = selector;
  takeLookupSections(p, cfg, hop);
  moveUnder(url, p, "hop");
  // gost takes the hop's metadata before the node consumes auth and TLS keys.
  const hopMd: Metadata = {};
  for (const [k, v] of [...p.map]) {
    if (k.startsWith("node.") || k.startsWith("connector.") || k.startsWith("dialer.")) continue;
    if (k.startsWith("hop.")) {
      hopMd[k.slice(4)] = v;
      p.delete(k);
    } else hopMd[k] = v;
  }

  let [connector, dialer] = splitSchemes(url, scheme);
  if (!GOST_CONNECTORS.has(connector)) connector = "http";
  if (!GOST_DIALERS.has(dialer)) dialer = connector === "ssu" ? "udp" : "tcp";
  const auth = takeAuth(url, p);
  const tls = takeTLSFiles(p);
  const secure = ["true", "1", "t"].includes(p.string("tls.secure", "secure").toLowerCase());
  if (secure) tls.secure = true;
  const serverName = p.string("tls.servername", "servername");
  p.delete("tls.secure", "secure", "tls.servername", "serverName");
  const md = splitMetadata(p, ["node", "connector", "dialer"]);

  const isPathAddr = scheme.split("+").some((s) => PATH_PROTOCOLS.has(s)) && url.host === "";
  const hostList = isPathAddr ? [url.path] : url.host.split(",").filter((h) => h !== "");
  if (hostList.length === 0 || hostList[0] === "") {
    fail(url, `missing node address (e.g. "${scheme}://example.com:1080")`);
  }
  const parts: NodeParts = { connector, dialer, auth, tls, serverName, isPathAddr, md };
  for (const addr of hostList) {
    if (!isPathAddr) {
      try {
        splitHostPort(addr);
      } catch (err) {
        fail(url, (err as Error).message);
      }
    }
    hop.nodes.push(nodeConfig(addr, hop.nodes.length, parts));
  }
  if (Object.keys(hopMd).length) hop.metadata = hopMd;
  return hop;
}

/** Node `i` of a hop, at `addr`; its TLS server name defaults to its own host. */
function nodeConfig(addr: string, i: number, parts: NodeParts): NodeConfig {
  const { auth, md: [nodeMd, connectorMd, dialerMd] } = parts;
  const node: NodeConfig = {
    name: `node-${i}`,
    addr,
    connector: { type: parts.connector },
    dialer: { type: parts.dialer },
  };
  const authOnDialer = parts.dialer === "ssh" || parts.dialer === "sshd";
  if (auth && !authOnDialer) node.connector.auth = { ...auth };
  if (Object.keys(connectorMd).length) node.connector.metadata = { ...connectorMd };
  if (auth && authOnDialer) node.dialer.auth = { ...auth };
  const nodeTLS: TLSConfig = { ...parts.tls };
  const sni = parts.serverName || (parts.isPathAddr ? "" : hostname(addr));
  if (sni) nodeTLS.serverName = sni;
  if (Object.keys(nodeTLS).length) node.dialer.tls = nodeTLS;
  if (Object.keys(dialerMd).length) node.dialer.metadata = { ...dialerMd };
  if (Object.keys(nodeMd).length) node.metadata = { ...nodeMd };
  return node;
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
