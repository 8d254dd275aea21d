/**
 * The `auto` handler (the default for `-L :8080`): one port for SOCKS5, SOCKS4/4a and HTTP,
 * told apart by the first byte the client sends.
 * @module
 */
import { BufferedReader } from "../core/buffered_reader.ts";
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { defineOptions, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import type { Handler, HandlerContext } from "../core/types.ts";
import { HttpHandler, httpHandlerOptions } from "./http.ts";
import type { HandlerFactory, HandlerInit } from "./registry.ts";
import { Socks4Handler, socks4HandlerOptions } from "./socks4.ts";
import { Socks5Handler, socks5HandlerOptions } from "./socks5.ts";

export const autoHandlerOptions = defineOptions({
  ...socks4HandlerOptions.schema,
  ...httpHandlerOptions.schema,
  ...socks5HandlerOptions.schema,
});

export type AutoHandlerOptions = Options<typeof autoHandlerOptions.schema>;

/** Dispatches each connection to the SOCKS5, SOCKS4 or HTTP handler. */
export class AutoHandler implements Handler {
  readonly http: HttpHandler;
  readonly socks4: Socks4Handler;
  readonly socks5: Socks5Handler;
  constructor(init: HandlerInit, readonly opts: AutoHandlerOptions) {
    const md = `${init.path}.metadata`;
    this.http = new HttpHandler(init, httpHandlerOptions.parse(init.metadata, md));
    this.socks4 = new Socks4Handler(init, socks4HandlerOptions.parse(init.metadata, md));
    this.socks5 = new Socks5Handler(init, socks5HandlerOptions.parse(init.metadata, md));
  }

  async handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    const r = new BufferedReader(conn);
    let first: number;
    try {
      first = (await deadline(r.peek(1, "first byte"), this.opts.readTimeout, "first byte", () =>
        conn.close()))[0];
    } catch (err) {
      throw new Error(`auto: ${errorMessage(err)}`);
    }
    const rest = r.release();
    switch (first) {
      case 0x05:
        return await this.socks5.handle(rest, ctx);
      case 0x04:
        return await this.socks4.handle(rest, ctx);
      default:
        return await this.http.handle(rest, ctx);
    }
  }
}

export const autoHandler: HandlerFactory = {
  options: autoHandlerOptions,
  create: (init: HandlerInit, opts: AutoHandlerOptions) => new AutoHandler(init, opts),
};
