/**
 * The `ssu` connector: UDP through a Shadowsocks server. The node is reached over a
 * datagram channel (the `udp` dialer); the returned duplex carries one datagram per chunk,
 * each sealed for the target and each answer opened the same way. Answers that do not
 * authenticate (or, for 2022 methods, replay or belong to another session) are dropped.
 *
 * AEAD (2017): `salt | AEAD(addr + payload)` per packet. 2022 (SIP022): one client session
 * per association (this duplex), with its own session id, packet counter and replay windows.
 * @module
 */
import { type Duplex, layerDuplex } from "../core/duplex.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { encodeSocksAddr } from "../core/socks_addr.ts";
import type { Connector, DialContext, Network } from "../core/types.ts";
import type { MethodInfo } from "../protocol/ss/cipher.ts";
import { ssKeys } from "../protocol/ss/config.ts";
import { openPacket, sealPacket } from "../protocol/ss/udp.ts";
import { ClientSession } from "../protocol/ss/udp2022_session.ts";
import type { ConnectorFactory, ConnectorInit } from "./registry.ts";

export const ssuConnectorOptions = defineOptions({
  key: opt.string("key", ""),
  connectTimeout: opt.ignored(
    "connectTimeout",
    "UDP associations need no answer from the node, so nothing is waited for",
  ),
});

export type SsuConnectorOptions = Options<typeof ssuConnectorOptions.schema>;

/** How one association seals datagrams and opens answers (null: dropped). */
interface PacketCodec {
  seal(payload: Uint8Array): Uint8Array;
  open(packet: Uint8Array): Uint8Array | null;
}

/** Speaks Shadowsocks UDP to the node. */
export class SsuConnector implements Connector {
  readonly method: MethodInfo;
  readonly psk: Uint8Array;

  constructor(init: ConnectorInit, readonly opts: SsuConnectorOptions) {
    ({ method: this.method, psk: this.psk } = ssKeys(init.auth, opts.key, init.path));
  }

  connect(conn: Duplex, network: Network, addr: string, ctx: DialContext): Promise<Duplex> {
    if (network !== "udp") {
      return Promise.reject(
        new Error("an ssu node carries UDP only: use an ss node (ss://method:password@host:port) for TCP"),
      );
    }
    if (!conn.datagram) {
      return Promise.reject(new Error("ssu: the node must be reached over a datagram channel (dialer udp)"));
    }
    if (!addr) return Promise.reject(new Error("ssu: a target address is required"));
    const codec = this.#codec(encodeSocksAddr(addr), ctx);
    const reader = conn.readable.getReader();
    const writer = conn.writable.getWriter();
    const readable = new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          const r = await reader.read();
          if (r.done) return controller.close();
          const payload = codec.open(r.value);
          if (payload) return controller.enqueue(payload);
        }
      },
      cancel: () => conn.close(),
    }, { highWaterMark: 0 });
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => writer.write(codec.seal(chunk)),
      close: () => conn.close(),
      abort: () => conn.close(),
    });
    return Promise.resolve(layerDuplex(conn, readable, writable, true));
  }

  #codec(target: Uint8Array, ctx: DialContext): PacketCodec {
    const { method, psk } = this;
    if (method.edition === "aead") {
      return {
        seal: (payload) => sealPacket(method, psk, target, payload),
        open: (packet) => openPacket(method, psk, packet)?.payload ?? null,
      };
    }
    const session = new ClientSession(method, psk);
    let dropped = 0;
    return {
      seal: (payload) => session.seal(target, payload),
      open(packet) {
        const body = session.open(packet);
        if (typeof body !== "string") return body.payload;
        // Logged once per association: a wrong key drops every answer.
        if (dropped++ === 0) {
          ctx.log.warn(`ssu: dropped a ${packet.length}-byte answer from the node (${body})`);
        }
        return null;
      },
    };
  }
}

export const ssuConnector: ConnectorFactory = {
  options: ssuConnectorOptions,
  create: (init: ConnectorInit, opts: SsuConnectorOptions) => new SsuConnector(init, opts),
};
