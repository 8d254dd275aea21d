import assert from "node:assert/strict";
import { encodeSocksAddr } from "../../core/socks_addr.ts";
import { lookupMethod, methodKey } from "./cipher.ts";
import { SaltFilter } from "./replay.ts";
import { openPacket, sealPacket } from "./udp.ts";

for (const name of ["aes-128-gcm", "aes-256-gcm", "chacha20-ietf-poly1305"]) {
  const method = lookupMethod(name)!;
  const psk = methodKey(method, "udp-pass");

  Deno.test(`ssu ${name}: seal/open round trip with the address in front`, () => {
    const payload = new TextEncoder().encode("dns query");
    const pkt = sealPacket(method, psk, encodeSocksAddr("1.1.1.1:53"), payload);
    assert.equal(pkt.length, method.saltSize + 7 + payload.length + 16);
    const p = openPacket(method, psk, pkt)!;
    assert.equal(p.addr, "1.1.1.1:53");
    assert.deepEqual(p.payload, payload);
  });

  Deno.test(`ssu ${name}: forged, truncated, wrong-key and replayed packets are dropped`, () => {
    const pkt = sealPacket(method, psk, encodeSocksAddr("[::1]:5353"), new Uint8Array(100));
    const flipped = pkt.slice();
    flipped[flipped.length - 1] ^= 1;
    assert.equal(openPacket(method, psk, flipped), null);
    assert.equal(openPacket(method, psk, pkt.subarray(0, method.saltSize + 10)), null);
    assert.equal(openPacket(method, methodKey(method, "other"), pkt), null);
    const filter = new SaltFilter();
    assert.ok(openPacket(method, psk, pkt, filter));
    assert.equal(openPacket(method, psk, pkt, filter), null);
  });
}
