/**
 * The configuration model, in gost v3's shape (what `-C file.yaml` holds and `-O yaml` prints).
 * Field names and nesting follow go-gost/x `config.Config`.
 * @module
 */
import type { Metadata } from "../core/options.ts";

// Declared in core (which imports nothing above it), part of the config model all the same.
import type { AuthConfig } from "../core/auth.ts";
import type { TLSConfig } from "../core/tls/config.ts";
export type { AuthConfig, TLSConfig };

/** `file:` of a policy section: one entry per line. */
export interface FileLoaderConfig {
  path: string;
}

/** An `authers:` entry: users inline and/or from a file re-read every `reload`. */
export interface AutherConfig {
  name: string;
  auths?: AuthConfig[];
  file?: FileLoaderConfig;
  reload?: string | number;
}

export interface SelectorConfig {
  strategy?: string;
  maxFails?: number;
  failTimeout?: string | number;
}

export interface ForwardNodeConfig {
  name?: string;
  addr: string;
  network?: string;
  metadata?: Metadata;
}

export interface ForwarderConfig {
  nodes?: ForwardNodeConfig[];
  selector?: SelectorConfig;
}

export interface HandlerConfig {
  type: string;
  retries?: number;
  chain?: string;
  auth?: AuthConfig;
  auther?: string;
  authers?: string[];
  metadata?: Metadata;
  tls?: TLSConfig;
}

export interface ListenerConfig {
  type: string;
  chain?: string;
  auth?: AuthConfig;
  auther?: string;
  authers?: string[];
  metadata?: Metadata;
  tls?: TLSConfig;
}

export interface ServiceConfig {
  name: string;
  addr: string;
  /** Names of top-level components (the CLI creates them from `?admission=`, `?bypass=`, …). */
  admission?: string;
  admissions?: string[];
  bypass?: string;
  bypasses?: string[];
  resolver?: string;
  hosts?: string;
  limiter?: string;
  climiter?: string;
  rlimiter?: string;
  handler: HandlerConfig;
  listener: ListenerConfig;
  forwarder?: ForwarderConfig;
  metadata?: Metadata;
}

export interface ConnectorConfig {
  type: string;
  auth?: AuthConfig;
  metadata?: Metadata;
  tls?: TLSConfig;
}

export interface DialerConfig {
  type: string;
  auth?: AuthConfig;
  metadata?: Metadata;
  tls?: TLSConfig;
}

export interface NodeConfig {
  name: string;
  addr: string;
  network?: string;
  bypass?: string;
  bypasses?: string[];
  resolver?: string;
  hosts?: string;
  connector: ConnectorConfig;
  dialer: DialerConfig;
  metadata?: Metadata;
}

export interface HopConfig {
  name: string;
  selector?: SelectorConfig;
  bypass?: string;
  bypasses?: string[];
  resolver?: string;
  hosts?: string;
  nodes: NodeConfig[];
  metadata?: Metadata;
}

export interface ChainConfig {
  name: string;
  hops: HopConfig[];
  metadata?: Metadata;
}

export interface LogConfig {
  level?: string;
  format?: string;
  output?: string;
}

/** A named matcher list (`bypasses:` / `admissions:`); `whitelist` inverts it. */
export interface MatcherListConfig {
  name: string;
  whitelist?: boolean;
  /** gost's deprecated spelling of `whitelist`. */
  reverse?: boolean;
  /** Bypasses only: apply to this network (tcp, udp) only. */
  network?: string;
  matchers?: string[];
  file?: FileLoaderConfig;
  reload?: string | number;
}

export interface NameserverConfig {
  addr: string;
  chain?: string;
  prefer?: string;
}

export interface ResolverConfig {
  name: string;
  nameservers?: NameserverConfig[];
}

export interface HostMappingConfig {
  ip: string;
  hostname: string;
  aliases?: string[];
}

export interface HostsConfig {
  name: string;
  mappings?: HostMappingConfig[];
}

/** `limiters:`, `climiters:`, `rlimiters:` entries: limit lines such as `"$ 1MB 2MB"`. */
export interface LimiterConfig {
  name: string;
  limits?: string[];
}

/** `api:` / `metrics:`: the Web API and the Prometheus endpoint (src/api, src/metrics). */
export interface EndpointConfig {
  addr: string;
  /** metrics: the path (default /metrics). */
  path?: string;
  /** api: a prefix before /config and /docs. */
  pathPrefix?: string;
  /** api: one log line per request. */
  accesslog?: boolean;
  auth?: AuthConfig;
  /** A named auther (api: accepted beside `auth`; metrics: instead of `auth`). */
  auther?: string;
}

export interface Config {
  services?: ServiceConfig[];
  chains?: ChainConfig[];
  authers?: AutherConfig[];
  admissions?: MatcherListConfig[];
  bypasses?: MatcherListConfig[];
  resolvers?: ResolverConfig[];
  hosts?: HostsConfig[];
  limiters?: LimiterConfig[];
  climiters?: LimiterConfig[];
  rlimiters?: LimiterConfig[];
  log?: LogConfig;
  api?: EndpointConfig;
  metrics?: EndpointConfig;
  /** gost-deno extension: threads accepting connections, a number or "auto" (src/service/workers.ts). */
  workers?: number | string;
}
