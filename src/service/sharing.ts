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
import { ConfigError } from "../core/errors.ts";
import { listenTCP } from "../listener/tcp.ts";

/** Listener types that accept byte streams on a TCP port of their own and honour `reusePort`. */
const STREAM_LISTENERS = new Set(["tcp", "tls", "ws", "wss", "sshd"]);
/** Handlers whose sessions span connections or bind ports of their own (reverse, UDP). */
const STATEFUL_HANDLERS = new Set(["rtcp", "rudp", "udp", "ssu"]);
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

/** Can this service run in every worker too (see the module comment)? */
export function workerEligible(s: unknown): boolean {
  if (!listensOnStreamPort(s) || !isRecord(s)) return false;
  if (STATEFUL_HANDLERS.has(typeOf(s.handler, "auto"))) return false;
  return !s.limiter && !s.climiter && !s.rlimiter && !(isRecord(s.handler) && s.handler.limiter);
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

/** {@link parseWorkers} that falls back to 1 on a bad value (the build reports it). */
export function threadsOf(config: Config): number {
  try {
    return parseWorkers(isRecord(config) ? config.workers : undefined);
  } catch {
    return 1;
  }
}

/** Does this config run services in workers? */
export function usesWorkers(config: Config): boolean {
  return threadsOf(config) > 1 && Array.isArray(config.services) && config.services.some(workerEligible);
}

/**
 * The config the main thread builds when it shares ports with workers: every service on a TCP
 * port of its own gets `reusePort: true` (all sockets of a port need it; a service that runs on
 * the main thread only gets it too, so that a reload can move a port between the two kinds).
 * Returns `config` itself when no worker will run.
 */
export function withSharedPorts(config: Config): Config {
  if (!usesWorkers(config)) return config;
  return {
    ...config,
    services: config.services!.map((s) => {
      if (!listensOnStreamPort(s) || userReusePort(s.listener?.metadata) !== undefined) return s;
      const metadata = { ...s.listener?.metadata, reusePort: true };
      sharedByUs.add(metadata);
      return { ...s, listener: { ...(s.listener ?? { type: "tcp" }), metadata } };
    }),
  };
}

/** Listener metadata that got `reusePort` from {@link withSharedPorts} (not from the user). */
const sharedByUs = new WeakSet<object>();

export function portOf(addr: unknown): number | undefined {
  try {
    return typeof addr === "string" ? splitHostPort(addr).port : undefined;
  } catch {
    return undefined;
  }
}

export function withPort(addr: string, port: number): string {
  return joinHostPort(splitHostPort(addr).host, port);
}

/**
 * SO_REUSEPORT would let this process share a port with another program's socket that has it
 * too; a start must still fail when the port is taken. So every shared port not held by this
 * process already is bound once without it first, and released (the window is microseconds).
 */
export function probePorts(config: Config, held: Set<number | undefined>): void {
  for (const s of config.services ?? []) {
    if (!isRecord(s.listener?.metadata) || !sharedByUs.has(s.listener.metadata)) continue;
    const port = portOf(s.addr);
    if (!port || held.has(port)) continue;
    listenTCP(s.addr, false).close();
  }
}
