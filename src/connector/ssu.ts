/**
 * The `ssu` connector: UDP through a Shadowsocks server. The node is reached over a
 * datagram channel (the `udp` dialer); the returned duplex carries one datagram per chunk,
 * each sent as `salt | AEAD(addr + payload)` and each answer opened the same way. Answers
 * that do not authenticate are dropped.
 * @module
 */
import { type Duplex, layerDuplex } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { encodeSocksAddr } from "../core/socks_addr.ts";
import type { Connector, DialContext, Network } from "../core/types.ts";
import type { MethodInfo } from "../protocol/ss/cipher.ts";
import { ssuKeys } from "../protocol/ss/config.ts";
import { openPacket, sealPacket } from "../protocol/ss/udp.ts";
import type { ConnectorFactory, ConnectorInit } from "./registry.ts";

export const ssuConnectorOptions = defineOptions({
  key: opt.string("key", ""),
  connectTimeout: opt.duration("connectTimeout", 10_000),
});

export type SsuConnectorOptions = Options<typeof ssuConnectorOptions.schema>;

/** Speaks Shadowsocks UDP to the node. */
export class SsuConnector implements Connector {
  readonly method: MethodInfo;
  readonly psk: Uint8Array;

  constructor(init: ConnectorInit, readonly opts: SsuConnectorOptions) {
    ({ method: this.method, psk: this.psk } = ssuKeys(init.auth, opts.key, init.path));
  }

  connect(conn: Duplex, network: Network, addr: string, _ctx: DialContext): Promise<Duplex> {
    if (network !== "udp") {
      return Promise.reject(
        new Error("an ssu node carries UDP only: use an ss node (ss://method:password@host:port) for TCP"),
      );
    }
    if (!conn.datagram) {
      return Promise.reject(new Error("ssu: the node must be reached over a datagram channel (dialer udp)"));
    }
    if (!addr) return Promise.reject(new Error("ssu: a target address is required"));
    const { method, psk } = this;
    const target = encodeSocksAddr(addr);
    const reader = conn.readable.getReader();
    const writer = conn.writable.getWriter();
    const readable = new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          const r = await reader.read();
          if (r.done) return controller.close();
          const p = openPacket(method, psk, r.value);
          if (p) return controller.enqueue(p.payload);
        }
      },
      cancel: () => conn.close(),
    }, { highWaterMark: 0 });
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => writer.write(sealPacket(method, psk, target, chunk)),
      close: () => conn.close(),
      abort: () => conn.close(),
    });
    return Promise.resolve(layerDuplex(conn, readable, writable, true));
  }
}

export const ssuConnector: ConnectorFactory = {
  options: ssuConnectorOptions,
  create: (init: ConnectorInit, opts: SsuConnectorOptions) => new SsuConnector(init, opts),
};
