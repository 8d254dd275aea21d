/**
 * The `ss` connector: reaches a destination through a Shadowsocks server (TCP).
 *
 * Like gost, the salt and request header wait for the first data so that they leave in one
 * write with it (`nodelay=true` sends them at once). Unlike gost, a client that writes
 * nothing (server-first protocols: SSH, SMTP) is not left hanging: the header goes out alone
 * after a short pause once the client starts reading.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { encodeSocksAddr } from "../core/socks_addr.ts";
import type { Connector, DialContext, Network } from "../core/types.ts";
import type { MethodInfo } from "../protocol/ss/cipher.ts";
import { clientStream } from "../protocol/ss/handshake.ts";
import { ssKeys } from "../protocol/ss/config.ts";
import type { ConnectorFactory, ConnectorInit } from "./registry.ts";

export const ssConnectorOptions = defineOptions({
  nodelay: opt.bool("nodelay", false),
  key: opt.string("key", ""),
  connectTimeout: opt.ignored(
    "connectTimeout",
    "the request needs no answer from the node, so nothing is waited for",
  ),
  /** Without nodelay: how long a reading client may stay silent before the header goes alone. */
  headerDelay: opt.duration("headerDelay", 100),
});

export type SsConnectorOptions = Options<typeof ssConnectorOptions.schema>;

/** Speaks Shadowsocks TCP to the node. */
export class SsConnector implements Connector {
  readonly method: MethodInfo;
  readonly psk: Uint8Array;

  constructor(init: ConnectorInit, readonly opts: SsConnectorOptions) {
    ({ method: this.method, psk: this.psk } = ssKeys(init.auth, opts.key, init.path));
  }

  connect(conn: Duplex, network: Network, addr: string, _ctx: DialContext): Promise<Duplex> {
    if (network === "udp") {
      return Promise.reject(
        new Error("an ss node carries TCP only: use an ssu node (ssu://method:password@host:port) for UDP"),
      );
    }
    if (!addr) return Promise.reject(new Error("ss: a target address is required"));
    return clientStream(conn, encodeSocksAddr(addr), {
      method: this.method,
      psk: this.psk,
      nodelay: this.opts.nodelay,
      flushDelayMs: this.opts.headerDelay,
    });
  }
}

export const ssConnector: ConnectorFactory = {
  options: ssConnectorOptions,
  create: (init: ConnectorInit, opts: SsConnectorOptions) => new SsConnector(init, opts),
};
