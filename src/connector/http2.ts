/**
 * The `http2` connector: HTTP/2 CONNECT through a node's shared HTTP/2 connection (from the
 * `http2` dialer), as gost's: `:authority` the target, Basic `proxy-authorization` from the
 * node's auth, extra `header`s; a status other than 200 fails the connection. Any other dialer
 * under it is "wrong connection type", as with gost.
 * @module
 */
import { basicCredentials } from "../core/auth.ts";
import type { Duplex } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import type { Connector, DialContext, Network } from "../core/types.ts";
import { ErrorCode } from "../protocol/http2/frame.ts";
import type { HeaderField } from "../protocol/http2/hpack.ts";
import { Http2SessionConn } from "../protocol/http2/session_conn.ts";
import { requestHeaders } from "../protocol/http2/tunnel.ts";
import type { ConnectorFactory, ConnectorInit } from "./registry.ts";

export const http2ConnectorOptions = defineOptions({
  connectTimeout: opt.duration(["connectTimeout", "timeout"], 15_000),
  header: opt.map(["header", "http.header"]),
});

/** Speaks HTTP/2 CONNECT to a node. */
export class Http2Connector implements Connector {
  readonly #headers: Record<string, string>;
  constructor(readonly init: ConnectorInit, readonly opts: Options<typeof http2ConnectorOptions.schema>) {
    const a = init.auth;
    this.#headers = { ...opts.header };
    if (a && (a.username || a.password)) {
      this.#headers["proxy-authorization"] = basicCredentials(a.username ?? "", a.password ?? "");
    }
  }

  async connect(conn: Duplex, network: Network, addr: string, _ctx: DialContext): Promise<Duplex> {
    if (!(conn instanceof Http2SessionConn)) {
      conn.close();
      throw new Error(
        `http2 node ${this.init.nodeAddr}: wrong connection type (the http2 connector needs the http2 dialer)`,
      );
    }
    if (network !== "tcp") {
      throw new Error(`http2 node ${this.init.nodeAddr}: only TCP is carried (asked for ${network})`);
    }
    const fields: HeaderField[] = requestHeaders({ authority: addr, path: "", header: this.#headers });
    const stream = await conn.session.request(fields);
    try {
      const head = await deadline(
        stream.waitHeaders(),
        this.opts.connectTimeout,
        `http2 CONNECT to ${this.init.nodeAddr}`,
      );
      const status = head?.find(([n]) => n === ":status")?.[1];
      if (status !== "200") {
        throw new Error(`http2 node ${this.init.nodeAddr}: CONNECT ${addr}: ${status ?? "no answer"}`);
      }
      return stream;
    } catch (err) {
      stream.reset(ErrorCode.CANCEL);
      throw err;
    }
  }
}

export const http2Connector: ConnectorFactory = {
  options: http2ConnectorOptions,
  create: (init, opts) => new Http2Connector(init, opts),
};
