/**
 * The `sshd` handler: serves what the `sshd` listener yields. A `direct-tcpip` channel is
 * connected to its destination through the handler's router (the channel is confirmed only
 * once that succeeded); a `tcpip-forward` request gets a listener (local, or at the end of
 * the handler's chain) whose inbound connections go back to the client as `forwarded-tcpip`
 * channels, until the client cancels or disconnects.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { defineOptions } from "../core/options.ts";
import { relay, relayRecorded } from "../core/relay.ts";
import type { Handler, HandlerContext, Listener, Router } from "../core/types.ts";
import { joinHostPort, splitHostPort } from "../core/addr.ts";
import { SshChannelConn, SshForwardRequest } from "../protocol/ssh/server.ts";
import type { HandlerFactory } from "./registry.ts";

/** Where to listen for an `ssh -R` bind address (`""`, `*`, `0.0.0.0`: everywhere). */
export function forwardListenAddr(host: string, port: number): string {
  if (host === "" || host === "*" || host === "0.0.0.0" || host === "::") return joinHostPort("", port);
  if (host === "localhost") return joinHostPort("127.0.0.1", port);
  return joinHostPort(host, port);
}

/** Serves SSH port forwarding requests. */
export class SshdHandler implements Handler {
  constructor(readonly router: Router) {}

  handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    if (conn instanceof SshChannelConn) return this.#direct(conn, ctx);
    if (conn instanceof SshForwardRequest) return this.#remoteForward(conn, ctx);
    conn.close();
    return Promise.reject(new Error("the sshd handler works only with the sshd listener (sshd://)"));
  }

  async #direct(ch: SshChannelConn, ctx: HandlerContext): Promise<void> {
    ctx.record.dst = ch.dst;
    let target: Duplex;
    try {
      target = await this.router.dial("tcp", ch.dst, { log: ctx.log, signal: ctx.signal });
    } catch (err) {
      ch.refuse();
      throw new Error(`ssh direct-tcpip to ${ch.dst} refused: ${errorMessage(err)}`);
    }
    const stream = ch.open();
    ctx.log.debug(`${ch.remote} <-> ${ch.dst} (ssh user ${ch.user})`);
    await relayRecorded(stream, target, ctx);
  }

  async #remoteForward(req: SshForwardRequest, ctx: HandlerContext): Promise<void> {
    ctx.record.dst = req.bindAddr;
    const addr = forwardListenAddr(req.bindHost, req.bindPort);
    let ln: Listener;
    try {
      ln = await this.router.bind("tcp", addr, { log: ctx.log, signal: ctx.signal });
    } catch (err) {
      req.reject();
      throw new Error(`ssh tcpip-forward ${req.bindAddr} refused: ${errorMessage(err)}`);
    }
    const boundPort = splitHostPort(ln.addr).port;
    req.accept(boundPort);
    ctx.log.info(`ssh remote forward: listening on ${ln.addr} for ${req.remote} (user ${req.user})`);
    const live = new Set<Duplex>();
    const stop = () => {
      ln.close();
      for (const c of live) c.close();
    };
    req.ended.then(stop);
    ctx.signal.addEventListener("abort", stop, { once: true });
    const served = new Set<Promise<void>>();
    let input = 0, output = 0;
    for (;;) {
      const inbound = await ln.accept();
      if (!inbound) break;
      live.add(inbound);
      const one = (async () => {
        try {
          const back = await req.openForwarded(boundPort, inbound.remote);
          live.add(back);
          const s = await relay(inbound, back, { signal: ctx.signal });
          input += s.inputBytes;
          output += s.outputBytes;
          live.delete(back);
        } catch (err) {
          ctx.log.warn(`ssh remote forward ${req.bindAddr}: ${inbound.remote}: ${errorMessage(err)}`);
          inbound.close();
        } finally {
          live.delete(inbound);
        }
      })();
      served.add(one);
      one.finally(() => served.delete(one));
    }
    stop();
    await Promise.all(served);
    ctx.signal.removeEventListener("abort", stop);
    ctx.record.inputBytes = input;
    ctx.record.outputBytes = output;
  }
}

export const sshdHandler: HandlerFactory = {
  options: defineOptions({}),
  create: (init) => new SshdHandler(init.router),
};
