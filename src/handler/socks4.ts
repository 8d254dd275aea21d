/**
 * The `socks4` / `socks4a` handler: CONNECT (BIND is refused). With `auth`, the request's
 * user id must match the username (SOCKS4 has no password field).
 * @module
 */
import { Authenticator, type Auther } from "../core/auth.ts";
import { BufferedReader } from "../core/buffered_reader.ts";
import { type Duplex, writeTo } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { relayRecorded } from "../core/relay.ts";
import { deadline } from "../core/timeout.ts";
import type { Handler, HandlerContext } from "../core/types.ts";
import { CMD_CONNECT, encodeReply, readRequest, Reply } from "../protocol/socks4/socks4.ts";
import type { HandlerFactory, HandlerInit } from "./registry.ts";

export const socks4HandlerOptions = defineOptions({
  readTimeout: opt.duration("readTimeout", 15_000),
  hash: opt.ignored("hash", "chain nodes are not picked by a hash of the target here"),
});

export type Socks4HandlerOptions = Options<typeof socks4HandlerOptions.schema>;

/** Serves SOCKS4 and SOCKS4a. */
export class Socks4Handler implements Handler {
  readonly #auth?: Auther;
  constructor(readonly init: HandlerInit, readonly opts: Socks4HandlerOptions) {
    this.#auth = init.auther ?? Authenticator.from(init.auth);
  }

  async handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    const reader = new BufferedReader(conn);
    let req;
    try {
      req = await deadline(readRequest(reader), this.opts.readTimeout, "socks4 request", () => conn.close());
    } catch (err) {
      await refuse(conn);
      throw new Error(`socks4: ${errorMessage(err)}`);
    }
    ctx.record.dst = req.addr;
    // SOCKS4 carries a user id only: gost checks it against an auther with an empty password
    // (users listed without one), and against a single `auth` by its user name.
    const password = this.init.auther ? "" : (this.init.auth?.password ?? "");
    if (this.#auth && !this.#auth.check(req.userId, password)) {
      await refuse(conn);
      ctx.log.warn("socks4: authentication failed", { user: req.userId });
      throw new Error(`socks4: user id "${req.userId}" not allowed`);
    }
    if (req.cmd !== CMD_CONNECT) {
      await refuse(conn);
      throw new Error(`socks4: command ${req.cmd} not supported`);
    }
    let target: Duplex;
    try {
      target = await this.init.router.dial("tcp", req.addr, { log: ctx.log, signal: ctx.signal });
    } catch (err) {
      await refuse(conn);
      throw err;
    }
    const client = reader.release();
    await writeTo(client, encodeReply(Reply.Granted));
    await relayRecorded(client, target, ctx);
  }
}

async function refuse(conn: Duplex): Promise<void> {
  try {
    await writeTo(conn, encodeReply(Reply.Rejected));
  } catch {
    // the client left
  }
  conn.close();
}

export const socks4Handler: HandlerFactory = {
  options: socks4HandlerOptions,
  create: (init: HandlerInit, opts: Socks4HandlerOptions) => new Socks4Handler(init, opts),
};
