/**
 * The `ssu` handler: Shadowsocks UDP relay. Each client (one datagram duplex from the
 * `udp` listener) sends `salt | AEAD(addr + payload)` packets; payloads go to the address
 * each names, through the handler's router, and answers come back sealed with their source.
 * Packets that do not authenticate or replay a salt are dropped without an answer.
 * @module
 */
import type { Duplex } from "../core/duplex.ts";
import { errorMessage } from "../core/errors.ts";
import { defineOptions, opt, type Options } from "../core/options.ts";
import { encodeSocksAddr } from "../core/socks_addr.ts";
import type { Handler, HandlerContext } from "../core/types.ts";
import type { MethodInfo } from "../protocol/ss/cipher.ts";
import { saltFilterFor, ssuKeys } from "../protocol/ss/config.ts";
import type { SaltFilter } from "../protocol/ss/replay.ts";
import { openPacket, sealPacket } from "../protocol/ss/udp.ts";
import type { HandlerFactory, HandlerInit } from "./registry.ts";
import { UdpRelay } from "./udp_tun.ts";

export const ssuHandlerOptions = defineOptions({
  key: opt.string("key", ""),
  readTimeout: opt.duration("readTimeout", 15_000),
  bufferSize: opt.int(["bufferSize", "udpBufferSize", "udp.bufferSize"], 4096, { min: 512, max: 65535 }),
  replayCapacity: opt.int(["replayCapacity", "replay.capacity"], 1 << 16, { min: 1024, max: 1 << 22 }),
});

export type SsuHandlerOptions = Options<typeof ssuHandlerOptions.schema>;

/** Serves Shadowsocks UDP. */
export class SsuHandler implements Handler {
  readonly method: MethodInfo;
  readonly psk: Uint8Array;
  readonly filter: SaltFilter;

  constructor(readonly init: HandlerInit, readonly opts: SsuHandlerOptions) {
    ({ method: this.method, psk: this.psk } = ssuKeys(init.auth, opts.key, init.path));
    this.filter = saltFilterFor(this.method, opts.replayCapacity);
  }

  async handle(conn: Duplex, ctx: HandlerContext): Promise<void> {
    if (!conn.datagram) {
      throw new Error(`ssu: needs a datagram listener (udp), not ${this.init.listenerType}`);
    }
    const { method, psk } = this;
    const writer = conn.writable.getWriter();
    const relay = new UdpRelay(
      this.init.router,
      ctx,
      (src, payload) => writer.write(sealPacket(method, psk, encodeSocksAddr(src), payload)),
    );
    const reader = conn.readable.getReader();
    let dropped = 0;
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        const p = openPacket(method, psk, r.value, this.filter);
        if (!p) {
          if (dropped++ === 0) {
            ctx.log.warn(
              `ssu: dropped a ${r.value.length}-byte packet that does not authenticate or replays a salt`,
            );
          }
          continue;
        }
        ctx.record.dst ??= p.addr;
        await relay.send(p.addr, p.payload);
      }
    } catch (err) {
      if (!ctx.signal.aborted) ctx.log.debug(`ssu: ${errorMessage(err)}`);
    } finally {
      relay.close();
      reader.releaseLock();
      writer.releaseLock();
      conn.close();
      ctx.record.inputBytes = relay.inputBytes;
      ctx.record.outputBytes = relay.outputBytes;
      if (dropped > 1) ctx.log.warn(`ssu: dropped ${dropped} packets in all`);
    }
  }
}

export const ssuHandler: HandlerFactory = {
  options: ssuHandlerOptions,
  create: (init: HandlerInit, opts: SsuHandlerOptions) => new SsuHandler(init, opts),
};
