/**
 * An smux session's settings: the options a caller gives, their defaults (`smux.DefaultConfig()`'s)
 * and checks, and the error a stream or session reports once its session has ended.
 * @module
 */
import type { Logger } from "../../core/log.ts";
import { MAX_PAYLOAD } from "./frame.ts";

/** Session settings; defaults are `smux.DefaultConfig()`'s. */
export interface SmuxOptions {
  /** Client sessions open odd stream ids, servers even ones. */
  client: boolean;
  /** Protocol version (default 1, as gost). */
  version?: 1 | 2;
  /** How often a NOP is sent, in ms (default 10000). */
  keepAliveInterval?: number;
  /** The session ends when nothing arrived for this long, in ms (default 30000). */
  keepAliveTimeout?: number;
  /** Largest PSH payload sent (default 32768, at most 65535). */
  maxFrameSize?: number;
  /** Received bytes not yet read by the application, session-wide (default 4194304). */
  maxReceiveBuffer?: number;
  /** Version 2 per-stream window offered to the peer (default 65536). */
  maxStreamBuffer?: number;
  /** No NOPs and no keepalive timeout. */
  keepAliveDisabled?: boolean;
  /** Streams opened by the peer and not yet accepted (default 1024); extra SYNs get a FIN. */
  acceptBacklog?: number;
  /** Where protocol errors and refused streams are reported. */
  log?: Logger;
}

/** smux's initial guess of the peer's window for a new stream (version 2). */
export const INITIAL_PEER_WINDOW = 262144;
/** Settings with every default filled in and checked. */
export type SmuxConfig = Required<Omit<SmuxOptions, "log">> & { log?: Logger };

export function resolveSmuxOptions(opts: SmuxOptions): SmuxConfig {
  const o: SmuxConfig = {
    client: opts.client,
    version: opts.version ?? 1,
    keepAliveInterval: opts.keepAliveInterval ?? 10_000,
    keepAliveTimeout: opts.keepAliveTimeout ?? 30_000,
    maxFrameSize: opts.maxFrameSize ?? 32768,
    maxReceiveBuffer: opts.maxReceiveBuffer ?? 4194304,
    maxStreamBuffer: opts.maxStreamBuffer ?? 65536,
    keepAliveDisabled: opts.keepAliveDisabled ?? false,
    acceptBacklog: opts.acceptBacklog ?? 1024,
    log: opts.log,
  };
  const bad = (msg: string) => {
    throw new RangeError(`smux: ${msg}`);
  };
  if (o.version !== 1 && o.version !== 2) bad(`unsupported protocol version ${o.version} (expected 1 or 2)`);
  if (!o.keepAliveDisabled) {
    if (!(o.keepAliveInterval > 0)) bad(`keepAliveInterval must be positive, got ${o.keepAliveInterval} ms`);
    if (!(o.keepAliveTimeout >= o.keepAliveInterval)) {
      bad(
        `keepAliveTimeout (${o.keepAliveTimeout} ms) must not be shorter than keepAliveInterval (${o.keepAliveInterval} ms)`,
      );
    }
  }
  if (!(o.maxFrameSize > 0 && o.maxFrameSize <= MAX_PAYLOAD)) {
    bad(`maxFrameSize must be 1..${MAX_PAYLOAD}, got ${o.maxFrameSize}`);
  }
  if (!(o.maxReceiveBuffer > 0)) bad(`maxReceiveBuffer must be positive, got ${o.maxReceiveBuffer}`);
  if (
    !(o.maxStreamBuffer > 0 && o.maxStreamBuffer <= o.maxReceiveBuffer && o.maxStreamBuffer <= 0x7fffffff)
  ) {
    bad(
      `maxStreamBuffer must be positive and at most maxReceiveBuffer (${o.maxReceiveBuffer}), got ${o.maxStreamBuffer}`,
    );
  }
  if (!(o.acceptBacklog > 0)) bad(`acceptBacklog must be positive, got ${o.acceptBacklog}`);
  return o;
}

/** The session has ended (closed, peer gone, keepalive timeout or protocol error). */
export class SmuxClosedError extends Error {
  constructor(reason?: Error) {
    super(reason ? `smux session closed: ${reason.message}` : "smux session closed", { cause: reason });
    this.name = "SmuxClosedError";
  }
}
