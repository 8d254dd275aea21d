/**
 * gost's `mux.*` options, declared once for every smux user: the multiplexed channels (mtcp,
 * mtls, mws, mwss listeners and dialers) and the mux BIND of relay and SOCKS5. Defaults are
 * xtaci/smux's `DefaultConfig()`, except the version, which gost sets per component (mtcp: 2,
 * everything else: 1).
 * @module
 */
import { opt, type Options } from "../../core/options.ts";
import type { SmuxOptions } from "./config.ts";

/** The `mux.*` option declarations with `version` as the default protocol version. */
export function muxOptionSchema(version: 1 | 2) {
  return {
    muxVersion: opt.int("mux.version", version, { min: 1, max: 2 }),
    muxKeepaliveInterval: opt.duration("mux.keepaliveInterval", 10_000),
    muxKeepaliveDisabled: opt.bool("mux.keepaliveDisabled", false),
    muxKeepaliveTimeout: opt.duration("mux.keepaliveTimeout", 30_000),
    muxMaxFrameSize: opt.int("mux.maxFrameSize", 32768, { min: 1024, max: 65535 }),
    muxMaxReceiveBuffer: opt.int("mux.maxReceiveBuffer", 4194304, { min: 1024 }),
    muxMaxStreamBuffer: opt.int("mux.maxStreamBuffer", 65536, { min: 1024 }),
  };
}

/** The `mux.*` options with gost's usual default, version 1. */
export const muxOptions: ReturnType<typeof muxOptionSchema> = muxOptionSchema(1);

/** Parsed `mux.*` options. */
export type MuxOptions = Options<typeof muxOptions>;

/** smux session settings from the `mux.*` options, for the client or the server end. */
export function smuxOptionsOf(opts: MuxOptions, client: boolean): SmuxOptions {
  return {
    client,
    version: opts.muxVersion as 1 | 2,
    keepAliveInterval: opts.muxKeepaliveInterval,
    keepAliveTimeout: opts.muxKeepaliveTimeout,
    keepAliveDisabled: opts.muxKeepaliveDisabled,
    maxFrameSize: opts.muxMaxFrameSize,
    maxReceiveBuffer: opts.muxMaxReceiveBuffer,
    maxStreamBuffer: opts.muxMaxStreamBuffer,
  };
}
