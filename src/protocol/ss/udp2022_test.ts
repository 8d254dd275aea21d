import assert from "node:assert/strict";
import { blake3 } from "@noble/hashes/blake3.js";
import { encodeSocksAddr } from "../../core/socks_addr.ts";
import { lookupMethod, methodKey } from "./cipher.ts";
import { PACKET_WINDOW, PacketWindow } from "./replay.ts";
import {
  newSessionKey,
  openBody2022,
  type OpenedBody2022,
  openSeparateHeader,
  sealPacket2022,
  type SeparateHeader,
  SeparateHeaderCipher,
  sessionKey,
  TYPE_CLIENT,
  TYPE_SERVER,
} from "./udp2022.ts";

const enc = new TextEncoder();
const NOW = 1_700_000_000_000;

function keyOf(size: number, seed: number): string {
  return btoa(String.fromCharCode(...new Uint8Array(size).map((_, i) => (i * 7 + seed) & 0xff)));
}

/** One block of AES under `key`, by Web Crypto's CBC with a zero IV (= ECB for one block). */
async function aesBlock(key: Uint8Array, block: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, "AES-CBC", false, [
    "encrypt",
  ]);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-CBC", iv: new Uint8Array(16) },
    k,
    block as Uint8Array<ArrayBuffer>,
  );
  return new Uint8Array(ct, 0, 16);
}

function opened(h: SeparateHeader | string): SeparateHeader {
  assert.equal(typeof h, "object", `separate header: ${h}`);
  return h as SeparateHeader;
}

function body(b: OpenedBody2022 | string): OpenedBody2022 {
  assert.equal(typeof b, "object", `body: ${b}`);
  return b as OpenedBody2022;
}

for (const [name, size] of [["2022-blake3-aes-128-gcm", 16], ["2022-blake3-aes-256-gcm", 32]] as const) {
  const method = lookupMethod(name)!;
  const psk = methodKey(method, keyOf(size, 1));
  const hc = new SeparateHeaderCipher(psk);

  Deno.test(`ssu ${name}: a packet built by hand from SIP022's layout opens`, async () => {
    // Separate header: session id 0102030405060708, packet id 5.
    const sid = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const separate = new Uint8Array(16);
    separate.set(sid);
    separate[15] = 5;
    const subkey = new Uint8Array([...psk, ...sid]);
    const k = blake3(subkey, { context: enc.encode("shadowsocks 2022 session subkey"), dkLen: size });
    // Main header: type 0, timestamp, padding length 3, padding, 127.0.0.1:53, payload.
    const addr = encodeSocksAddr("127.0.0.1:53");
    const plain = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 9, 9, 9, ...addr, ...enc.encode("query")]);
    new DataView(plain.buffer).setBigUint64(1, BigInt(NOW / 1000));
    const aes = await crypto.subtle.importKey("raw", k as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
      "encrypt",
    ]);
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: separate.subarray(4) },
        aes,
        plain as Uint8Array<ArrayBuffer>,
      ),
    );
    const packet = new Uint8Array([...await aesBlock(psk, separate), ...sealed]);

    const h = opened(openSeparateHeader(hc, packet));
    assert.deepEqual(h.sessionId, sid);
    assert.equal(h.packetId, 5);
    const b = body(openBody2022(sessionKey(method, psk, h.sessionId).aead, h, packet, TYPE_CLIENT, NOW));
    assert.equal(b.addr, "127.0.0.1:53");
    assert.deepEqual(b.payload, enc.encode("query"));
  });

  Deno.test(`ssu ${name}: our packet has SIP022's layout (decrypted by hand)`, async () => {
    const server = newSessionKey(method, psk);
    const clientId = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]);
    const pkt = sealPacket2022(
      hc,
      server,
      2 ** 40 + 3,
      { type: TYPE_SERVER, clientSessionId: clientId },
      encodeSocksAddr("[::1]:5353"),
      enc.encode("answer"),
      NOW,
    );
    // The header is one AES block under the PSK: undo it with Web Crypto's CBC decryption.
    const k = await crypto.subtle.importKey("raw", psk as Uint8Array<ArrayBuffer>, "AES-CBC", false, [
      "encrypt",
      "decrypt",
    ]);
    // CBC decryption wants valid padding: append the encryption of a full padding block.
    const padBlock = await aesBlock(psk, new Uint8Array(16).fill(16).map((b, i) => b ^ pkt[i]));
    const separate = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-CBC", iv: new Uint8Array(16) },
        k,
        new Uint8Array([...pkt.subarray(0, 16), ...padBlock]),
      ),
    );
    assert.deepEqual(separate.subarray(0, 8), server.id);
    assert.equal(new DataView(separate.buffer).getBigUint64(8), 2n ** 40n + 3n);
    const sub = blake3(new Uint8Array([...psk, ...server.id]), {
      context: enc.encode("shadowsocks 2022 session subkey"),
      dkLen: size,
    });
    const aes = await crypto.subtle.importKey("raw", sub as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
      "decrypt",
    ]);
    const plain = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: separate.subarray(4) },
        aes,
        pkt.subarray(16) as Uint8Array<ArrayBuffer>,
      ),
    );
    assert.equal(plain[0], 1);
    assert.equal(new DataView(plain.buffer).getBigUint64(1), BigInt(NOW / 1000));
    assert.deepEqual(plain.subarray(9, 17), clientId);
    assert.deepEqual(plain.subarray(17, 19), new Uint8Array([0, 0]));
    assert.deepEqual(
      plain.subarray(19),
      new Uint8Array([...encodeSocksAddr("[::1]:5353"), ...enc.encode("answer")]),
    );
  });

  Deno.test(`ssu ${name}: round trips both ways, with padding`, () => {
    const client = newSessionKey(method, psk);
    const pkt = sealPacket2022(
      hc,
      client,
      0,
      { type: TYPE_CLIENT, padding: 100 },
      encodeSocksAddr("example.com:443"),
      new Uint8Array(1200).fill(1),
      NOW,
    );
    const h = opened(openSeparateHeader(hc, pkt));
    assert.deepEqual(h.sessionId, client.id);
    const b = body(
      openBody2022(sessionKey(method, psk, h.sessionId).aead, h, pkt, TYPE_CLIENT, NOW + 29_000),
    );
    assert.equal(b.addr, "example.com:443");
    assert.equal(b.payload.length, 1200);

    const server = newSessionKey(method, psk);
    const back = sealPacket2022(
      hc,
      server,
      7,
      { type: TYPE_SERVER, clientSessionId: client.id },
      b.addrBytes,
      enc.encode("ok"),
      NOW,
    );
    const h2 = opened(openSeparateHeader(hc, back));
    assert.equal(h2.packetId, 7);
    const b2 = body(openBody2022(sessionKey(method, psk, h2.sessionId).aead, h2, back, TYPE_SERVER, NOW));
    assert.deepEqual(b2.clientSessionId, client.id);
    assert.equal(b2.addr, "example.com:443");
    assert.deepEqual(b2.payload, enc.encode("ok"));
  });

  Deno.test(`ssu ${name}: tampered, truncated, old, mistyped and wrong-key packets are dropped with a reason`, () => {
    const client = newSessionKey(method, psk);
    const addr = encodeSocksAddr("1.2.3.4:53");
    const pkt = sealPacket2022(hc, client, 1, { type: TYPE_CLIENT }, addr, enc.encode("x"), NOW);
    const open = (p: Uint8Array, now = NOW, type: 0 | 1 = TYPE_CLIENT, cipher = hc, key = psk) => {
      const h = openSeparateHeader(cipher, p);
      if (typeof h === "string") return h;
      const b = openBody2022(sessionKey(method, key, h.sessionId).aead, h, p, type, now);
      return typeof b === "string" ? b : "ok";
    };
    assert.equal(open(pkt), "ok");
    for (const at of [0, 15, 16, 30, pkt.length - 1]) {
      const t = pkt.slice();
      t[at] ^= 0x40;
      assert.equal(open(t), "auth", `byte ${at} flipped`);
    }
    assert.equal(open(pkt.subarray(0, 40)), "short");
    assert.equal(open(pkt, NOW + 31_000), "timestamp");
    assert.equal(open(pkt, NOW - 31_000), "timestamp");
    assert.equal(open(pkt, NOW, TYPE_SERVER), "type");
    const other = methodKey(method, keyOf(size, 2));
    assert.equal(open(pkt, NOW, TYPE_CLIENT, new SeparateHeaderCipher(other), other), "auth");
  });
}

Deno.test("ssu 2022: packet window accepts each id once, out of order inside the window", () => {
  const w = new PacketWindow();
  assert.ok(w.accept(0));
  assert.ok(!w.accept(0));
  assert.ok(w.accept(5));
  assert.ok(w.accept(3), "late but inside the window");
  assert.ok(!w.accept(3));
  assert.ok(w.accept(4));
  assert.ok(!w.fresh(5));
  assert.ok(w.fresh(1));
  assert.equal(w.top, 5);
});

Deno.test("ssu 2022: packet window refuses ids older than the window and forgets on a jump", () => {
  const w = new PacketWindow();
  for (let i = 0; i < 5000; i++) assert.ok(w.accept(i));
  assert.ok(!w.fresh(4999 - PACKET_WINDOW), "just outside the window");
  assert.ok(!w.fresh(4999 - PACKET_WINDOW + 1), "inside the window, already seen");
  assert.ok(w.accept(100_000));
  assert.ok(w.accept(100_000 - 1), "bits below a jump start clear");
  assert.ok(!w.accept(4999), "far below the new top");
  assert.ok(w.accept(2 ** 52), "large ids stay exact");
  assert.ok(!w.accept(2 ** 52));
  assert.ok(w.accept(2 ** 52 - 7));
  assert.ok(!w.accept(2 ** 52 - 7));
});

Deno.test("ssu 2022: packet window refuses ids from 2^53 up", () => {
  const w = new PacketWindow();
  assert.ok(!w.accept(2 ** 53));
  assert.ok(!w.accept(2 ** 64));
  assert.equal(w.top, -1);
});
