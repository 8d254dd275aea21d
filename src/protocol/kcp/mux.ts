/**
 * What gost stacks on a KCP session: snappy stream compression (unless `nocomp`), then an
 * smux session whose streams are the proxied connections.
 * @module
 */
import type { Duplex } from "../../core/duplex.ts";
import type { Logger } from "../../core/log.ts";
import { snappyFramed } from "../snappy/framed.ts";
import { SmuxSession } from "../smux/session.ts";
import type { KcpConfig } from "./config.ts";
import { createBlockCrypt, deriveKey } from "./crypt.ts";
import type { SessionConfig } from "./session.ts";

/** Session settings from a resolved config (derives the key: call once per listener/dialer). */
export async function sessionConfigOf(cfg: KcpConfig): Promise<SessionConfig> {
  return {
    crypt: await createBlockCrypt(cfg.crypt, await deriveKey(cfg.key)),
    dataShards: cfg.datashard,
    parityShards: cfg.parityshard,
    mtu: cfg.mtu,
    sndWnd: cfg.sndwnd,
    rcvWnd: cfg.rcvwnd,
    nodelay: cfg.nodelay,
    interval: cfg.interval,
    resend: cfg.resend,
    nc: cfg.nc,
    ackNoDelay: cfg.acknodelay,
    pacing: cfg.pacing,
  };
}

/** Wraps a KCP session's byte stream in snappy (unless nocomp) and smux. */
export function smuxOver(conn: Duplex, cfg: KcpConfig, client: boolean, log?: Logger): SmuxSession {
  const keepalive = cfg.keepalive > 0 ? cfg.keepalive * 1000 : 10_000;
  return new SmuxSession(cfg.nocomp ? conn : snappyFramed(conn), {
    client,
    version: cfg.smuxver,
    keepAliveInterval: keepalive,
    keepAliveTimeout: Math.max(30_000, keepalive * 3),
    maxReceiveBuffer: cfg.smuxbuf,
    maxStreamBuffer: Math.min(cfg.streambuf, cfg.smuxbuf),
    log,
  });
}

/** A random non-zero conversation id. */
export function randomConv(): number {
  const v = crypto.getRandomValues(new Uint32Array(1))[0];
  return v === 0 ? 1 : v;
}
