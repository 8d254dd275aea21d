/**
 * The `http2` handler: an HTTP/2 proxy on the `http2` listener's request streams, as gost's:
 * the request's authority (`:authority`, with port 80, or 443 for https, when it has none) is
 * dialled through the service's router, answered 200, and the stream's body is relayed both
 * ways — for CONNECT and, as gost does, for any other method too. Basic proxy auth (407 with
 * `proxy-authenticate`), 403 for a target the service bypasses, 503 when it cannot be reached. A connection that is not an
 * HTTP/2 stream (`http2+h2c`, `http2+tcp`) is refused: "wrong connection type".
 * @module
 */
import { joinHostPort, splitHostPort } from "../core/addr.ts";
import { Authenticator, parseBasicCredentials } from "../core/auth.ts";
import type { Duplex } from "../core/duplex.ts";
import { BypassError } from "../core/errors.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { relayRecorded } from "../core/relay.ts";
import type { Handler, HandlerContext } from "../core/types.ts";
import { dialTarget } from "../chain/forwarder.ts";
import type { HeaderField } from "../protocol/http2/hpack.ts";
import { Http2Stream } from "../protocol/http2/stream.ts";
import type { HandlerFactory, HandlerInit } from "./registry.ts";

export const http2HandlerOptions = defineOptions({
  authBasicRealm: opt.string("authBasicRealm", "gost"),
  header: opt.map(["header", "http.header"]),
});

/** The http2 proxy handler (see the module note). */
export class Http2Handler implements Handler {
  readonly #auth?: { check(username: string, password: string): boolean };
  constructor(readonly init: HandlerInit, readonly opts: Options<typeof http2HandlerOptions.schema>) {
    this.#auth = init.auther ?? Authenticator.from(init.auth);
  }

  async handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    // A stream another listener already answered (h2c, h2) is a tunnel, not a proxy request.
    if (!(conn instanceof Http2Stream) || conn.responded) {
      throw new Error(`http2: wrong connection type (the http2 handler serves the http2 listener only)`);
    }
    const authority = conn.header(":authority") ?? conn.header("host") ?? "";
    const host = withPort(authority, conn.header(":scheme") === "https" ? 443 : 80);
    ctx.record.dst = host;
    if (this.#auth) {
      const cred = parseBasicCredentials(conn.header("proxy-authorization") ?? "");
      if (!cred || !this.#auth.check(cred.username, cred.password)) {
        ctx.log.warn("http2: proxy authentication failed", { user: cred?.username ?? "" });
        await this.#answer(conn, "407", [[
          "proxy-authenticate",
          `Basic realm="${this.opts.authBasicRealm}"`,
        ]]);
        return;
      }
    }
    if (!host) {
      await this.#answer(conn, "400");
      throw new Error("http2: a request without an authority");
    }
    let target: Duplex;
    try {
      target = await dialTarget(this.init.router, this.init.forwarder, "tcp", host, conn, ctx);
    } catch (err) {
      // The service's bypass refuses with 403, as gost's http2 handler does.
      await this.#answer(conn, err instanceof BypassError ? "403" : "503");
      throw err;
    }
    const extra = Object.entries(this.opts.header).map(([k, v]) => [k.toLowerCase(), v] as HeaderField);
    await conn.respond([[":status", "200"], ...extra]);
    ctx.log.debug(`${conn.remote} <-> ${host}`);
    await relayRecorded(conn, target, ctx);
  }

  async #answer(s: Http2Stream, status: string, fields: HeaderField[] = []): Promise<void> {
    await s.respond([[":status", status], ...fields, ["content-length", "0"]], true).catch(() => {});
    s.close();
  }
}

/** `authority` with `port` added when it has none. */
function withPort(authority: string, port: number): string {
  if (!authority) return "";
  try {
    splitHostPort(authority);
    return authority;
  } catch {
    return joinHostPort(authority.replace(/^\[|\]$/g, ""), port);
  }
}

export const http2Handler: HandlerFactory = {
  options: http2HandlerOptions,
  create: (init, opts) => new Http2Handler(init, opts),
};
