/**
 * The component interfaces (mirroring go-gost/core): listener, handler, dialer, connector,
 * and the router handlers use to reach a destination directly or through a chain.
 * @module
 */
import type { Duplex } from "./duplex.ts";
import type { Logger } from "./log.ts";

/** The networks a destination can be reached over. */
export type Network = "tcp" | "udp";

/** Accepts connections (or, for datagram listeners, one duplex per client session). */
export interface Listener {
  /** Binds; throws {@link ListenError} naming the address when it cannot. */
  listen(): Promise<void>;
  /** The next connection, or null once the listener is closed. */
  accept(): Promise<Duplex | null>;
  /** The bound address (`host:port`), valid after `listen()`. */
  readonly addr: string;
  close(): void;
  /**
   * Listeners that run a handshake of their own (tls, ws, wss) ask `admit` with the client's
   * address right after accepting a socket, and close a refused one before the handshake.
   */
  gate?(admit: (remote: string) => boolean): void;
}

/** A listen address could not be bound. */
export class ListenError extends Error {
  constructor(readonly addr: string, cause: unknown) {
    super(`cannot listen on ${addr}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "ListenError";
  }
}

/** What a handler learns about the connection it serves, filled in for the log line. */
export interface ConnRecord {
  /** The destination the client asked for (or the forward target). */
  dst?: string;
  /** `tcp` or `udp`: what the client asked to carry (default: the listener's kind). */
  network?: "tcp" | "udp";
  inputBytes?: number;
  outputBytes?: number;
}

/** Per-connection context given to a handler. */
export interface HandlerContext {
  /** Logger carrying the service, client and listener fields. */
  log: Logger;
  /** Filled in by the handler; the service logs it when the connection ends. */
  record: ConnRecord;
  /** Aborted when the service stops. */
  signal: AbortSignal;
}

/** Serves one accepted connection: reads the proxy protocol or forwards. */
export interface Handler {
  handle(conn: Duplex, ctx: HandlerContext): Promise<void>;
  /** Releases what the handler holds across connections (sessions, sockets). */
  close?(): void;
}

/** Per-dial context for dialers and connectors. */
export interface DialContext {
  log: Logger;
  signal?: AbortSignal;
  /**
   * Set for a node's handshake inside a chain: opens another stream to that node through the
   * same earlier hops (pht's pushes need a second connection).
   */
  redial?: () => Promise<Duplex>;
}

/** Opens the data channel to a node: a transport (tcp, tls, ws, kcp, …). */
export interface Dialer {
  /** Opens a new transport connection to `addr` (the first hop of a route). */
  dial(addr: string, ctx: DialContext): Promise<Duplex>;
  /**
   * Runs this channel's handshake over `conn`, a stream that already reaches the node's
   * address (returned by `dial`, or tunnelled through earlier hops). Identity for tcp.
   */
  handshake(conn: Duplex, addr: string, ctx: DialContext): Promise<Duplex>;
  /** The network the previous hop must open to reach this node ("udp" for kcp). */
  readonly network?: Network;
  close?(): void;
}

/**
 * How a bound listener (rtcp/rudp) presents inbound UDP peers: each peer is one datagram
 * duplex, closed after `ttl` without traffic. Unset fields take the UDP listener defaults.
 */
export interface BindOptions {
  /** Peers waiting to be accepted before new ones are dropped. */
  backlog?: number;
  /** Idle time (ms) after which a peer's session closes. */
  ttl?: number;
  /** Largest datagram read. */
  readBufferSize?: number;
  /** Datagrams queued per peer before new ones are dropped. */
  readQueueSize?: number;
}

/** Speaks a proxy protocol over a stream that reaches a node, to reach the next address. */
export interface Connector {
  connect(conn: Duplex, network: Network, addr: string, ctx: DialContext): Promise<Duplex>;
  /** Asks the node to listen on `addr` and hand inbound connections back (rtcp/rudp). */
  bind?(
    conn: Duplex,
    network: Network,
    addr: string,
    ctx: DialContext,
    opts?: BindOptions,
  ): Promise<Listener>;
  close?(): void;
}

/** Reaches destinations for a handler: directly, or hop by hop through a chain. */
export interface Router {
  /** Opens a stream (tcp) or a datagram duplex (udp) to `addr`. */
  dial(network: Network, addr: string, ctx: DialContext): Promise<Duplex>;
  /** Listens on `addr` at the far end of the chain (or locally without one). */
  bind(network: Network, addr: string, ctx: DialContext, opts?: BindOptions): Promise<Listener>;
  /** True when a chain is configured (dials go through it). */
  readonly hasChain: boolean;
  /** Name of the chain, for logs. */
  readonly chainName?: string;
}
