import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import {
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

Deno.test('kcp crypt: PBKDF2 keys match the capture (empty key and "it\'s a secrect")', async () => {
  for (const [pass, want] of Object.entries(vectors.crypto.derived_keys_hex)) {
    assert.equal(toHex(await deriveKey(pass)), want);
  }
  assert.equal(toHex(KCP_IV), vectors.crypto.iv_hex);
});

Deno.test("kcp crypt: every captured gost datagram opens with the empty key and matches the decoded bytes", async () => {
  const crypt = await createBlockCrypt("aes", await deriveKey(""));
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

Deno.test("kcp crypt: the documented default key fails the CRC on gost's packets", async () => {
  const crypt = await createBlockCrypt("aes", await deriveKey("it's a secrect"));
  for (const p of packetsOf(vectors.vectors[0])) assert.equal(openPacket(crypt, hex(p.hex)), null);
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

Deno.test("kcp crypt: seal/open round trip for every cipher; corruption and wrong keys are rejected", async () => {
  for (const name of CRYPT_NAMES) {
    const a = await createBlockCrypt(name, await deriveKey("k1"));
    const wrong = await createBlockCrypt(name, await deriveKey("k2"));
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

Deno.test("kcp crypt: Web Crypto's PBKDF2 gives node:crypto's keys and xor table (as kcp-go derives them)", async () => {
  for (const key of ["", "it's a secrect", "pässwörd 🔑", "x".repeat(200)]) {
    const pass = await deriveKey(key);
    assert.deepEqual(pass, new Uint8Array(pbkdf2Sync(key, "kcp-go", 4096, 32, "sha1")), key);
    const table = new Uint8Array(1500);
    (await createBlockCrypt("xor", pass)).encrypt(table); // zeros XOR the table: the table
    assert.deepEqual(table, new Uint8Array(pbkdf2Sync(pass, "sH3CIVoF#rWLtJo6", 32, 1500, "sha1")), key);
  }
});
