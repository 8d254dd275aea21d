/**
 * The `http` connector: HTTP CONNECT to a proxy node (the bytes gost 3 sends), with Basic
 * credentials and extra headers; UDP through GOST's `X-Gost-Protocol: udp`.
 * @module
 */
import { basicCredentials } from "../core/auth.ts";
import { BufferedReader } from "../core/buffered_reader.ts";
import { framedDatagrams } from "../core/datagram_stream.ts";
import { type Duplex, writeTo } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { deadline } from "../core/timeout.ts";
import type { Connector, DialContext, Network } from "../core/types.ts";
import { encodeConnect, parseResponseHead, readHead } from "../protocol/http/http.ts";
import { streamFrameCodec } from "../protocol/socks5/udp.ts";
import type { ConnectorFactory, ConnectorInit } from "./registry.ts";

export const httpConnectorOptions = defineOptions({
  connectTimeout: opt.duration(["connectTimeout", "timeout"], 15_000),
  header: opt.map(["header", "http.header"]),
});

export type HttpConnectorOptions = Options<typeof httpConnectorOptions.schema>;

/** Speaks HTTP CONNECT to a node. */
export class HttpConnector implements Connector {
  readonly #authorization?: string;
  constructor(readonly init: ConnectorInit, readonly opts: HttpConnectorOptions) {
    const a = init.auth;
    if (a && (a.username || a.password)) {
      this.#authorization = basicCredentials(a.username ?? "", a.password ?? "");
    }
  }

  async connect(conn: Duplex, network: Network, addr: string, _ctx: DialContext): Promise<Duplex> {
    const node = this.init.nodeAddr;
    if (!addr) throw new Error(`http node ${node}: a target address is required`);
    const r = new BufferedReader(conn);
    const run = async () => {
      await writeTo(
        conn,
        encodeConnect(addr, {
          authorization: this.#authorization,
          udp: network === "udp",
          headers: this.opts.header,
        }),
      );
      const head = await readHead(r, "http CONNECT response");
      if (!head) throw new Error(`http node ${node}: connection closed before a response`);
      const res = parseResponseHead(head);
      if (res.status !== 200) {
        throw new Error(
          `http node ${node}: CONNECT ${addr}${
            network === "udp" ? " (udp)" : ""
          }: ${res.status} ${res.reason}`,
        );
      }
    };
    await deadline(run(), this.opts.connectTimeout, `http CONNECT to ${node}`, () => conn.close());
    if (network === "udp") return framedDatagrams(conn, streamFrameCodec(addr), { reader: r });
    return r.release();
  }
}

export const httpConnector: ConnectorFactory = {
  options: httpConnectorOptions,
  create: (init: ConnectorInit, opts: HttpConnectorOptions) => new HttpConnector(init, opts),
};
