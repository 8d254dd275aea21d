/**
 * Which services may run in worker threads, the `workers` setting, and the config changes that
 * let several sockets share one port (see workers.ts for the threads themselves).
 *
 * `workers` (top-level YAML key, or `-workers`) is a gost-deno extension: the number of threads
 * accepting connections (1 = only the main thread) or `auto` (one per CPU, the default).
 * @module
 */
import type { Config } from "../config/types.ts";
import { joinHostPort, splitHostPort } from "../core/addr.ts";
import { normalizeStrategy } from "../chain/selector.ts";
import { ConfigError } from "../core/errors.ts";
import { ListenError } from "../core/types.ts";
import { listenTCP } from "../listener/tcp.ts";

/** Listener types that accept byte streams on a TCP port of their own and honour `reusePort`. */
const STREAM_LISTENERS = new Set(["tcp", "tls", "ws", "wss", "sshd"]);
/** Handlers whose state spans connections: reverse and UDP sessions, the shadowsocks replay filter. */
const STATEFUL_HANDLERS = new Set(["rtcp", "rudp", "udp", "ssu", "ss"]);
/** What `workers` means when unset. */
export const DEFAULT_WORKERS = "auto";
/** The most threads `workers` may ask for (each costs an isolate's memory). */
const MAX_WORKERS = 64;

// deno-lint-ignore no-explicit-any
function isRecord(v: unknown): v is Record<string, any> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

const typeOf = (v: unknown, def: string) =>
  isRecord(v) && typeof v.type === "string" && v.type !== "" ? v.type : def;

/** The user's own `reusePort` setting of a listener, if any (keys are case-insensitive). */
function userReusePort(metadata: unknown): unknown {
  if (!isRecord(metadata)) return undefined;
  for (const [k, v] of Object.entries(metadata)) {
    if (["reuseport", "so_reuseport"].includes(k.toLowerCase())) return v;
  }
  return undefined;
}

const isFalse = (v: unknown) => v === false || (typeof v === "string" && /^(false|0|f|no|off)$/i.test(v));

/** Does this service listen on a TCP port of its own (and so may share it with SO_REUSEPORT)? */
function listensOnStreamPort(s: unknown): boolean {
  return isRecord(s) && STREAM_LISTENERS.has(typeOf(s.listener, "tcp")) &&
    !isFalse(userReusePort(s.listener?.metadata));
}

/**
 * Does a selector over `nodes` keep an order that threads would each keep on their own? Round
 * robin (the default) does: two threads would each rotate, and a client would see A A B B.
 * rand, hash and fifo pick the same way in any thread.
 */
function rotates(selector: unknown, nodes: unknown): boolean {
  if (!Array.isArray(nodes) || nodes.length < 2) return false;
  const strategy = isRecord(selector) && typeof selector.strategy === "string" ? selector.strategy : "round";
  return (normalizeStrategy(strategy) ?? "round") === "round";
}

/** Does the chain called `name` have a hop that rotates over several nodes? */
function chainRotates(config: Config, name: unknown): boolean {
  if (typeof name !== "string" || !name) return false;
  const chain = (config.chains ?? []).find((c) => isRecord(c) && c.name === name);
  return !!chain && Array.isArray(chain.hops) &&
    chain.hops.some((h) => isRecord(h) && rotates(h.selector, h.nodes));
}

/**
 * Dialers that keep one session per node. A second thread would open a second session to the
 * same node: for KCP, measured under iperf3 load, ~35–40 MB more (peak 282–304 MB with threads,
 * 252–265 MB with one) and no longer gost's one session per node.
 */
const SESSION_DIALERS = new Set(["kcp"]);

/** Does the chain called `name` reach a node through a session dialer? */
function chainHasSessionDialer(config: Config, name: unknown): boolean {
  if (typeof name !== "string" || !name) return false;
  const chain = (config.chains ?? []).find((c) => isRecord(c) && c.name === name);
  return !!chain && Array.isArray(chain.hops) &&
    chain.hops.some((h) =>
      isRecord(h) && Array.isArray(h.nodes) &&
      h.nodes.some((n) => isRecord(n) && SESSION_DIALERS.has(typeOf(n.dialer, "tcp")))
    );
}

/**
 * Does an sshd listener name its host key? Without one each thread would generate its own, and
 * an OpenSSH client would see the host key change from one connection to the next.
 */
function hasHostKeyFile(listener: Record<string, unknown>): boolean {
  const md = isRecord(listener.metadata) ? listener.metadata : {};
  const named = Object.entries(md).some(([k, v]) =>
    /^privatekey(file)?$/i.test(k) && typeof v === "string" && v
  );
  return named ||
    (isRecord(listener.tls) && typeof listener.tls.keyFile === "string" && !!listener.tls.keyFile);
}

/**
 * Can this service run in every worker too? Not when it keeps state across connections that
 * threads cannot share: reverse and UDP handlers, shadowsocks (its replay filter must see every
 * connection), limiters (a budget would be multiplied), round robin over several targets or
 * chain nodes (the rotation would no longer be one sequence), a chain through a KCP session
 * (one per node), and an sshd listener's generated host key.
 */
export function workerEligible(s: unknown, config: Config): boolean {
  if (!listensOnStreamPort(s) || !isRecord(s)) return false;
  if (typeOf(s.listener, "tcp") === "sshd" && !hasHostKeyFile(s.listener)) return false;
  if (STATEFUL_HANDLERS.has(typeOf(s.handler, "auto"))) return false;
  if (s.limiter || s.climiter || s.rlimiter || (isRecord(s.handler) && s.handler.limiter)) return false;
  if (isRecord(s.forwarder) && rotates(s.forwarder.selector, s.forwarder.nodes)) return false;
  const chains = [s.handler?.chain, s.listener?.chain];
  return !chains.some((c) => chainRotates(config, c) || chainHasSessionDialer(config, c));
}

/**
 * The `workers` setting as a thread count: an integer 1..64, or `auto` (the CPU count).
 * Throws a {@link ConfigError} naming the key for anything else.
 */
export function parseWorkers(v: unknown, cpus = navigator.hardwareConcurrency || 1): number {
  if (v === undefined || v === null || v === "") v = DEFAULT_WORKERS;
  if (typeof v === "string" && v.trim().toLowerCase() === "auto") {
    return Math.min(Math.max(cpus, 1), MAX_WORKERS);
  }
  const n = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new ConfigError(
      "workers",
      `invalid value ${JSON.stringify(v)}: expected "auto" or a number of threads from 1 to ${MAX_WORKERS}`,
    );
  }
  return n;
}

/** Is `workers` unset or `auto` (threads start when connections overlap, see workers.ts)? */
export function workersOnDemand(config: Config): boolean {
  const v = isRecord(config) ? config.workers : undefined;
  return v === undefined || v === null || v === "" ||
    (typeof v === "string" && v.trim().toLowerCase() === "auto");
}

/**
 * Can threads share a port here? Linux spreads connections over SO_REUSEPORT sockets; other
 * systems give them all to one socket (or refuse the second bind), so workers would not help.
 */
export const PORT_SHARING = Deno.build.os === "linux";

/**
 * The threads to run: {@link parseWorkers}, falling back to 1 on a bad value (the build reports
 * it) and where ports cannot be shared.
 */
export function threadsOf(config: Config): number {
  if (!PORT_SHARING) return 1;
  try {
    return parseWorkers(isRecord(config) ? config.workers : undefined);
  } catch {
    return 1;
  }
}

/**
 * The config the main thread builds when it shares ports with workers: every service on a TCP
 * port of its own gets `reusePort: true` whenever more than one thread is configured — all
 * sockets of a port need it, and a service that runs on the main thread only gets it too, so
 * that a reload can move a port between the kinds while the other side still holds it.
 * Returns `config` itself when one thread is configured.
 */
export function withSharedPorts(config: Config, threads = threadsOf(config)): Config {
  if (threads <= 1 || !Array.isArray(config.services)) return config;
  return {
    ...config,
    services: config.services.map((s) => {
      if (!listensOnStreamPort(s) || userReusePort(s.listener?.metadata) !== undefined) return s;
      const metadata = { ...s.listener?.metadata, reusePort: true };
      sharedByUs.add(metadata);
      return { ...s, listener: { ...(s.listener ?? { type: "tcp" }), metadata } };
    }),
  };
}

/** Listener metadata that got `reusePort` from {@link withSharedPorts} (not from the user). */
const sharedByUs = new WeakSet<object>();

/** The port of a service address, or undefined when it is not a valid `host:port`. */
export function portOf(addr: unknown): number | undefined {
  try {
    return typeof addr === "string" ? splitHostPort(addr).port : undefined;
  } catch {
    return undefined;
  }
}

/** `addr` with its port replaced (a port-0 service's workers listen on the port the main thread got). */
export function withPort(addr: string, port: number): string {
  return joinHostPort(splitHostPort(addr).host, port);
}

/**
 * SO_REUSEPORT would let this process share a port with another program's socket that has it
 * too; a start must still fail when the port is taken. So every shared port not held by this
 * process already is bound once without it first, and released (the window is microseconds).
 */
export function probePorts(config: Config, held: Set<number | undefined>): void {
  const probed = new Set<string>();
  for (const s of config.services ?? []) {
    if (!isRecord(s.listener?.metadata) || !sharedByUs.has(s.listener.metadata)) continue;
    const port = portOf(s.addr);
    if (!port || held.has(port)) continue;
    // Two services of one config on one port would share it silently; without workers the
    // second fails to bind, and so it does here.
    const key = `${splitHostPort(s.addr).host}|${port}`;
    if (probed.has(key)) throw new ListenError(s.addr, new Deno.errors.AddrInUse("Address already in use"));
    probed.add(key);
    listenTCP(s.addr, false).close();
  }
}
