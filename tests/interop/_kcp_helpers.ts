/**
 * Helpers for KCP tests: an in-process kcp forward server, a dialer, and an echo round trip.
 * @module
 */
import assert from "node:assert/strict";
import { relay } from "../../src/core/relay.ts";
import { dialTCP } from "../../src/dialer/tcp.ts";
import { KcpDialer } from "../../src/dialer/kcp.ts";
import { KcpListener } from "../../src/listener/kcp.ts";
import { kcpOptions, resolveKcpConfig } from "../../src/protocol/kcp/config.ts";
import { createBlockCrypt, deriveKey, sealPacket } from "../../src/protocol/kcp/crypt.ts";
import { FecEncoder } from "../../src/protocol/kcp/fec.ts";
import type { Duplex } from "../../src/core/duplex.ts";

/** Our kcp listener forwarding every stream to 127.0.0.1:target (what `kcp://:K/:T` runs). */
export async function kcpForwardServer(md: Record<string, string>, target: number) {
  const opts = kcpOptions.parse(md, "test");
  const l = new KcpListener("127.0.0.1:0", resolveKcpConfig(md, opts, "test"), opts);
  await l.listen();
  (async () => {
    for (;;) {
      const s = await l.accept();
      if (!s) return;
      dialTCP(`127.0.0.1:${target}`).then((t) => relay(s, t), () => s.close());
    }
  })();
  return l;
}

/** Our kcp dialer for `md`. */
export function kcpDialer(md: Record<string, string>): KcpDialer {
  const opts = kcpOptions.parse(md, "test");
  return new KcpDialer(resolveKcpConfig(md, opts, "test"), opts);
}

/** Writes `data` to `d` and reads back as many bytes (an echo path); returns them. */
export async function echoThrough(d: Duplex, data: Uint8Array): Promise<Uint8Array> {
  const writer = d.writable.getWriter();
  const writing = (async () => {
    for (let o = 0; o < data.length; o += 65536) await writer.write(data.slice(o, o + 65536));
  })();
  const out = new Uint8Array(data.length);
  let got = 0;
  const reader = d.readable.getReader();
  while (got < data.length) {
    const { value, done } = await reader.read();
    if (done) break;
    out.set(value.subarray(0, data.length - got), got);
    got += value.length;
  }
  await writing;
  d.close();
  assert.equal(got, data.length, "echo ended early");
  return out;
}

/** Derived once: the key derivation (PBKDF2) would make a flood of forged packets CPU-bound here. */
const emptyKeyCrypt = await createBlockCrypt("aes", await deriveKey(""));

/** A valid first datagram of a new conversation (empty key, aes, FEC 10/3), as a client sends. */
export function firstPacket(conv: number): Uint8Array {
  // The data is snappy's stream identifier: a valid start that leaves the session waiting.
  const data = [0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59];
  const pkt = new Uint8Array(20 + 8 + 24 + data.length);
  const k = new DataView(pkt.buffer, 28);
  k.setUint32(0, conv, true);
  k.setUint8(4, 81); // PUSH
  k.setUint16(6, 32, true);
  k.setUint32(20, data.length, true);
  pkt.set(data, 52);
  new FecEncoder(10, 3, 20).encode(pkt);
  sealPacket(emptyKeyCrypt, pkt);
  return pkt;
}
