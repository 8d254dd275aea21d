import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import {
  AesCfb,
  createBlockCrypt,
  CRYPT_NAMES,
  deriveKey,
  KCP_IV,
  openPacket,
  Salsa20Crypt,
  sealPacket,
} from "./crypt.ts";
import { hex, loadKcpVectors, packetsOf, toHex } from "./_vectors.ts";

const vectors = loadKcpVectors();

/** Reference CFB-128 built from node:crypto's AES-ECB, one block at a time. */
function referenceCfb(key: Uint8Array, data: Uint8Array, encrypt: boolean): Uint8Array {
  const ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  ecb.setAutoPadding(false);
  const out = new Uint8Array(data.length);
  let reg = KCP_IV.slice();
  for (let o = 0; o < data.length; o += 16) {
    const ks = new Uint8Array(ecb.update(reg));
    const n = Math.min(16, data.length - o);
    const next = new Uint8Array(16);
    for (let i = 0; i < n; i++) {
      out[o + i] = data[o + i] ^ ks[i];
      next[i] = encrypt ? out[o + i] : data[o + i];
    }
    reg = next;
  }
  return out;
}

Deno.test('kcp crypt: PBKDF2 keys match the capture (empty key and "it\'s a secrect")', () => {
  for (const [pass, want] of Object.entries(vectors.crypto.derived_keys_hex)) {
    assert.equal(toHex(deriveKey(pass)), want);
  }
  assert.equal(toHex(KCP_IV), vectors.crypto.iv_hex);
});

Deno.test("kcp crypt: every captured gost datagram opens with the empty key and matches the decoded bytes", () => {
  const crypt = createBlockCrypt("aes", deriveKey(""));
  let n = 0;
  for (const v of vectors.vectors) {
    for (const p of packetsOf(v)) {
      const buf = hex(p.hex);
      const body = openPacket(crypt, buf);
      assert.ok(body, `packet ${p.hex.slice(0, 16)} failed the CRC`);
      assert.equal(toHex(buf), p.decoded.decrypted_hex);
      n++;
    }
  }
  assert.ok(n > 20);
});

Deno.test("kcp crypt: the documented default key fails the CRC on gost's packets", () => {
  const crypt = createBlockCrypt("aes", deriveKey("it's a secrect"));
  for (const p of packetsOf(vectors.vectors[0])) assert.equal(openPacket(crypt, hex(p.hex)), null);
});

Deno.test("kcp crypt: AES-CFB matches a reference built on node:crypto ECB for 128/192/256 and odd lengths", () => {
  for (const bits of [128, 192, 256]) {
    const key = crypto.getRandomValues(new Uint8Array(bits / 8));
    const c = new AesCfb(key);
    for (const len of [0, 1, 15, 16, 17, 100, 1350, 1500]) {
      const plain = crypto.getRandomValues(new Uint8Array(len));
      const buf = plain.slice();
      c.encrypt(buf);
      assert.deepEqual(buf, referenceCfb(key, plain, true), `aes-${bits} len ${len}`);
      c.decrypt(buf);
      assert.deepEqual(buf, plain);
    }
  }
});

Deno.test("kcp crypt: AES-CFB keeps every packet independent across many calls, at any buffer offset", () => {
  // The native CBC pass chains across calls; each packet must still start from the IV.
  for (const bits of [128, 192, 256]) {
    const key = crypto.getRandomValues(new Uint8Array(bits / 8));
    const c = new AesCfb(key);
    for (let n = 0; n < 200; n++) {
      const len = (n * 37) % 1400;
      const offset = n % 7;
      const plain = crypto.getRandomValues(new Uint8Array(len));
      const backing = new Uint8Array(len + 8);
      const buf = backing.subarray(offset, offset + len);
      buf.set(plain);
      c.encrypt(buf);
      assert.deepEqual(
        buf,
        referenceCfb(key, plain, true),
        `aes-${bits} packet ${n} len ${len} at +${offset}`,
      );
      // Decrypting in between must not disturb the encryption chain.
      if (n % 3 === 0) c.decrypt(buf.slice());
      const back = backing.slice().subarray(offset, offset + len);
      c.decrypt(back);
      assert.deepEqual(back, plain);
    }
  }
});

Deno.test("kcp crypt: AES-128 known answer (FIPS-197 C.1) via one CFB block", () => {
  // CFB of a zero block yields E(IV); check E against node:crypto on the FIPS key.
  const key = hex("000102030405060708090a0b0c0d0e0f");
  const buf = new Uint8Array(16);
  new AesCfb(key).encrypt(buf);
  const ecb = createCipheriv("aes-128-ecb", key, null);
  ecb.setAutoPadding(false);
  assert.deepEqual(buf, new Uint8Array(ecb.update(KCP_IV)));
});

Deno.test("kcp crypt: salsa20 keystream matches the eSTREAM/DJB test vector", () => {
  // Salsa20/20, 256-bit key 80 00..00, IV 0: first 64 keystream bytes (eSTREAM set 1, vector 0).
  const key = new Uint8Array(32);
  key[0] = 0x80;
  const c = new Salsa20Crypt(key);
  const buf = new Uint8Array(8 + 64); // 8 nonce bytes (zero) then 64 zero bytes
  c.encrypt(buf);
  assert.equal(
    toHex(buf.subarray(8)),
    "e3be8fdd8beca2e3ea8ef9475b29a6e7003951e1097a5c38d23b7a5fad9f6844" +
      "b22c97559e2723c7cbbd3fe4fc8d9a0744652a83e72a9c461876af4d7ef1a117",
  );
});

Deno.test("kcp crypt: seal/open round trip for every cipher; corruption and wrong keys are rejected", () => {
  for (const name of CRYPT_NAMES) {
    const a = createBlockCrypt(name, deriveKey("k1"));
    const wrong = createBlockCrypt(name, deriveKey("k2"));
    const body = crypto.getRandomValues(new Uint8Array(300));
    const pkt = new Uint8Array(20 + body.length);
    pkt.set(body, 20);
    sealPacket(a, pkt);
    const copy = pkt.slice();
    assert.deepEqual(openPacket(a, pkt.slice()), body, name);
    if (name !== "none") assert.equal(openPacket(wrong, copy.slice()), null, name);
    const bad = copy.slice();
    bad[100] ^= 1;
    assert.equal(openPacket(a, bad), null, name);
    assert.equal(openPacket(a, new Uint8Array(19)), null);
  }
});
