/**
 * The `socks5` handler (also `socks`): RFC 1928/1929 with GOST's extensions. CONNECT,
 * BIND (`bind=true`), UDP ASSOCIATE and GOST's UDP-over-TCP 0xF3 (`udp=true`), UDP BIND over
 * 0xF3 and MBIND 0xF2 (`bind=true`). A GOST client offers its private TLS methods
 * (0x80/0x82) beside the standard ones; this handler picks the standard one, which works.
 * @module
 */
import { Authenticator, type Auther } from "../core/auth.ts";
import { BufferedReader } from "../core/buffered_reader.ts";
import { concat } from "../core/bytes.ts";
import { type Duplex, writeTo } from "../core/duplex.ts";
import { BypassError, errorMessage } from "../core/errors.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { relayRecorded } from "../core/relay.ts";
import { deadline } from "../core/timeout.ts";
import type { Handler, HandlerContext } from "../core/types.ts";
import {
  Cmd,
  encodeMethodSelection,
  encodeReply,
  encodeUserPassReply,
  Method,
  readMethods,
  readRequest,
  readUserPass,
  Reply,
  Socks5Error,
  USERPASS_FAILED,
  USERPASS_OK,
} from "../protocol/socks5/socks5.ts";
import { muxOptions } from "../protocol/smux/options.ts";
import type { HandlerFactory, HandlerInit } from "./registry.ts";
import { serveBind, serveMuxBind, serveUdpAssociate, serveUdpBind } from "./socks5_bind_udp.ts";
import { serveUdpTun } from "./udp_tun.ts";

export const socks5HandlerOptions = defineOptions({
  readTimeout: opt.duration("readTimeout", 15_000),
  notls: opt.ignored(
    "notls",
    "gost's TLS methods 0x80/0x82 are never chosen; wrap the service in tls instead",
  ),
  bind: opt.bool("bind", false),
  udp: opt.bool("udp", false),
  udpBufferSize: opt.ignored(
    ["udpBufferSize", "udp.bufferSize"],
    "datagrams are relayed whole (up to 64 KiB), not cut to a buffer size",
  ),
  hash: opt.ignored("hash", "chain nodes are not picked by a hash of the target here"),
  comp: opt.bool("comp", false),
  ...muxOptions,
});

export type Socks5HandlerOptions = Options<typeof socks5HandlerOptions.schema>;

/** Serves SOCKS5. */
export class Socks5Handler implements Handler {
  readonly #auth?: Auther;
  constructor(readonly init: HandlerInit, readonly opts: Socks5HandlerOptions) {
    this.#auth = init.auther ?? Authenticator.from(init.auth);
  }

  async handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    const reader = new BufferedReader(conn);
    // A client that pipelined its request behind the greeting gets the method selection
    // together with the CONNECT reply: one write and one wake-up fewer per connection.
    const held: { selection: Uint8Array | null } = { selection: null };
    let req;
    try {
      req = await deadline(
        this.#handshake(reader, conn, ctx, held),
        this.opts.readTimeout,
        "socks5 handshake",
        () => conn.close(),
      );
    } catch (err) {
      if (err instanceof Socks5Error && err.reply !== undefined) await reply(conn, err.reply, held.selection);
      conn.close();
      throw new Error(`socks5: ${errorMessage(err)}`);
    }
    ctx.record.dst = req.addr;
    if (held.selection && req.code !== Cmd.Connect) {
      await writeTo(conn, held.selection);
      held.selection = null;
    }
    const dctx = { log: ctx.log, signal: ctx.signal };
    switch (req.code) {
      case Cmd.Connect: {
        let target: Duplex;
        try {
          target = await this.init.router.dial("tcp", req.addr, dctx);
        } catch (err) {
          // A bypassed target: gost 3.2.6 was measured closing without a reply to the request
          // (the method selection still goes out, as gost sends it at once).
          if (err instanceof BypassError) {
            if (held.selection) await writeTo(conn, held.selection).catch(() => {});
          } else await reply(conn, Reply.HostUnreachable, held.selection);
          conn.close();
          throw err;
        }
        const client = reader.release();
        await writeTo(client, withPrefix(held.selection, encodeReply(Reply.Succeeded)));
        ctx.log.debug(`${conn.remote} <-> ${req.addr}`);
        await relayRecorded(client, target, ctx);
        return;
      }
      case Cmd.UdpTun:
        if (req.port === 0) {
          if (!this.opts.udp) {
            return await this.#refuse(conn, Reply.NotAllowed, "UDP relay is disabled (udp=true)");
          }
          await writeTo(conn, encodeReply(Reply.Succeeded));
          return await serveUdpTun(conn, reader, this.init.router, ctx);
        }
        if (!this.opts.bind) {
          return await this.#refuse(conn, Reply.NotAllowed, "BIND is disabled (bind=true)");
        }
        return await serveUdpBind(conn, reader, req.addr, ctx);
      case Cmd.UdpAssociate:
        if (!this.opts.udp) {
          return await this.#refuse(conn, Reply.NotAllowed, "UDP relay is disabled (udp=true)");
        }
        return await serveUdpAssociate(conn, reader, this.init.router, ctx);
      case Cmd.Bind:
        if (!this.opts.bind) {
          return await this.#refuse(conn, Reply.NotAllowed, "BIND is disabled (bind=true)");
        }
        return await serveBind(conn, reader, req.addr, ctx, this.opts.readTimeout);
      case Cmd.MuxBind:
        if (!this.opts.bind) {
          return await this.#refuse(conn, Reply.NotAllowed, "BIND is disabled (bind=true)");
        }
        return await serveMuxBind(conn, reader, req.addr, ctx, this.opts);
      default:
        return await this.#refuse(
          conn,
          Reply.CmdUnsupported,
          `command 0x${req.code.toString(16).padStart(2, "0")} not supported`,
        );
    }
  }

  async #refuse(conn: Duplex, rep: number, why: string): Promise<never> {
    await reply(conn, rep);
    conn.close();
    throw new Error(`socks5: ${why}`);
  }

  /** Method selection, authentication and the request; null when refused quietly. */
  async #handshake(
    r: BufferedReader,
    conn: Duplex,
    ctx: HandlerContext,
    held: { selection: Uint8Array | null },
  ) {
    const methods = await readMethods(r);
    let method: number = Method.NoAcceptable;
    if (this.#auth) {
      if (methods.includes(Method.UserPass)) method = Method.UserPass;
    } else if (methods.includes(Method.NoAuth)) method = Method.NoAuth;
    if (method === Method.NoAuth && r.buffered > 0) held.selection = encodeMethodSelection(method);
    else await writeTo(conn, encodeMethodSelection(method));
    if (method === Method.NoAcceptable) {
      throw new Error(
        `no acceptable authentication method among [${
          methods.map((m) => "0x" + m.toString(16)).join(", ")
        }]` +
          (this.#auth ? " (username/password required)" : ""),
      );
    }
    if (method === Method.UserPass) {
      const { username, password } = await readUserPass(r);
      if (!this.#auth!.check(username, password)) {
        await writeTo(conn, encodeUserPassReply(USERPASS_FAILED));
        ctx.log.warn("socks5: authentication failed", { user: username });
        throw new Error(`authentication failed for user "${username}"`);
      }
      await writeTo(conn, encodeUserPassReply(USERPASS_OK));
    }
    return await readRequest(r);
  }
}

async function reply(conn: Duplex, rep: number, prefix: Uint8Array | null = null): Promise<void> {
  try {
    await writeTo(conn, withPrefix(prefix, encodeReply(rep)));
  } catch {
    // the client left
  }
}

function withPrefix(prefix: Uint8Array | null, data: Uint8Array): Uint8Array {
  return prefix ? concat([prefix, data]) : data;
}

export const socks5Handler: HandlerFactory = {
  options: socks5HandlerOptions,
  create: (init: HandlerInit, opts: Socks5HandlerOptions) => new Socks5Handler(init, opts),
};
