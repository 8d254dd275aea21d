import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { KCP_IV } from "./crypt.ts";
import { AesCfb } from "./node_aes.ts";
import { hex } from "./_vectors.ts";

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

Deno.test("kcp node aes: AES-CFB matches a reference built on node:crypto ECB for 128/192/256 and odd lengths", () => {
  for (const bits of [128, 192, 256]) {
    const key = crypto.getRandomValues(new Uint8Array(bits / 8));
    const c = new AesCfb(key, KCP_IV);
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

Deno.test("kcp node aes: AES-CFB keeps every packet independent across many calls, at any buffer offset", () => {
  // The native CBC pass chains across calls; each packet must still start from the IV.
  for (const bits of [128, 192, 256]) {
    const key = crypto.getRandomValues(new Uint8Array(bits / 8));
    const c = new AesCfb(key, KCP_IV);
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

Deno.test("kcp node aes: AES-128 known answer (FIPS-197 C.1) via one CFB block", () => {
  // CFB of a zero block yields E(IV); check E against node:crypto on the FIPS key.
  const key = hex("000102030405060708090a0b0c0d0e0f");
  const buf = new Uint8Array(16);
  new AesCfb(key, KCP_IV).encrypt(buf);
  const ecb = createCipheriv("aes-128-ecb", key, null);
  ecb.setAutoPadding(false);
  assert.deepEqual(buf, new Uint8Array(ecb.update(KCP_IV)));
});
