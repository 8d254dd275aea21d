/**
 * The configuration model, in gost v3's shape (what `-C file.yaml` holds and `-O yaml` prints).
 * Field names and nesting follow go-gost/x `config.Config`.
 * @module
 */
import type { Metadata } from "../core/options.ts";

export interface AuthConfig {
  username?: string;
  password?: string;
}

export interface TLSConfig {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  secure?: boolean;
  serverName?: string;
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
  chain?: string;
  auth?: AuthConfig;
  metadata?: Metadata;
  tls?: TLSConfig;
}

export interface ListenerConfig {
  type: string;
  chain?: string;
  auth?: AuthConfig;
  metadata?: Metadata;
  tls?: TLSConfig;
}

export interface ServiceConfig {
  name: string;
  addr: string;
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
  connector: ConnectorConfig;
  dialer: DialerConfig;
  metadata?: Metadata;
}

export interface HopConfig {
  name: string;
  selector?: SelectorConfig;
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

export interface Config {
  services?: ServiceConfig[];
  chains?: ChainConfig[];
  log?: LogConfig;
}
