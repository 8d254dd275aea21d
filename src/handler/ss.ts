/**
 * The `ss` handler: a Shadowsocks server (AEAD and 2022 methods) over any stream listener.
 *
 * The method and password come from the service's auth (`ss://method:password@:8388`, or
 * SIP002 base64 userinfo); for 2022 methods the password is the base64 key (or `key=`).
 * A client whose bytes do not authenticate — wrong key, replayed salt, stale 2022
 * timestamp, garbage — gets exactly what a silent port gives: nothing. The server keeps
 * reading and discarding until the handshake deadline or until the client leaves, so
 * neither the bytes nor the timing of the close tell a prober that a server is here.
 * @module
 */
import { dialTarget } from "../chain/forwarder.ts";
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { relayRecorded } from "../core/relay.ts";
import { deadline } from "../core/timeout.ts";
import type { Handler, HandlerContext } from "../core/types.ts";
import type { MethodInfo } from "../protocol/ss/cipher.ts";
import { saltFilterFor, ssKeys } from "../protocol/ss/config.ts";
import type { SaltFilter } from "../protocol/ss/replay.ts";
import { serverHandshake } from "../protocol/ss/handshake.ts";
import { SsAuthError, SsTruncatedError } from "../protocol/ss/stream.ts";
import type { HandlerFactory, HandlerInit } from "./registry.ts";

export const ssHandlerOptions = defineOptions({
  readTimeout: opt.duration("readTimeout", 15_000),
  /** The key (2022: base64) when it is not given as the password. */
  key: opt.string("key", ""),
  hash: opt.ignored("hash", "chain nodes are not picked by a hash of the target here"),
  /** Salts remembered per generation for replay protection (two generations are kept). */
  replayCapacity: opt.int(["replayCapacity", "replay.capacity"], 1 << 16, { min: 1024, max: 1 << 22 }),
});

export type SsHandlerOptions = Options<typeof ssHandlerOptions.schema>;

/** Serves Shadowsocks TCP. */
export class SsHandler implements Handler {
  readonly method: MethodInfo;
  readonly psk: Uint8Array;
  readonly filter: SaltFilter;

  constructor(readonly init: HandlerInit, readonly opts: SsHandlerOptions) {
    ({ method: this.method, psk: this.psk } = ssKeys(init.auth, opts.key, init.path));
    this.filter = saltFilterFor(this.method, opts.replayCapacity);
  }

  async handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    const started = Date.now();
    let req;
    try {
      req = await deadline(
        serverHandshake(conn, { method: this.method, psk: this.psk, filter: this.filter }),
        this.opts.readTimeout,
        "ss request",
        () => conn.close(),
      );
    } catch (err) {
      if (err instanceof SsAuthError) {
        ctx.log.warn(`ss: ${err.message}: staying silent until the client leaves or the deadline`, {
          method: this.method.name,
        });
        await silence(conn, this.opts.readTimeout - (Date.now() - started), ctx.signal);
      }
      if (err instanceof SsTruncatedError) throw new Error(`ss: client left early: ${err.message}`);
      throw new Error(`ss: ${errorMessage(err)}`);
    }
    ctx.record.dst = req.target;
    let target: Duplex;
    try {
      target = await dialTarget(this.init.router, this.init.forwarder, "tcp", req.target, conn, ctx);
    } catch (err) {
      req.conn.close();
      throw err;
    }
    ctx.log.debug(`${conn.remote} <-> ${ctx.record.dst}`);
    await relayRecorded(req.conn, target, ctx);
  }
}

/**
 * Reads and discards until the peer closes or `ms` pass, then closes: what a port that
 * accepts and never answers looks like. Reads go through a small fixed buffer.
 */
async function silence(conn: Duplex, ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return conn.close();
  const timer = setTimeout(() => conn.close(), ms);
  const onAbort = () => conn.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const direct = conn.direct;
    if (direct) {
      const buf = new Uint8Array(2048);
      while ((await direct.read(buf)) !== null);
    } else {
      const reader = conn.readable.getReader();
      while (!(await reader.read()).done);
    }
  } catch {
    // closed by the timer or the peer
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    conn.close();
  }
}

export const ssHandler: HandlerFactory = {
  options: ssHandlerOptions,
  create: (init: HandlerInit, opts: SsHandlerOptions) => new SsHandler(init, opts),
};
