import assert from "node:assert/strict";
import { KCP_IV } from "./crypt.ts";
import { AesCfb } from "./node_aes.ts";
import { NativeAesCfb } from "./native_aes.ts";

Deno.test("kcp native aes: libcrypto's CFB gives node:crypto's bytes for every key size and odd lengths, in place", () => {
  for (const size of [16, 24, 32]) {
    const key = crypto.getRandomValues(new Uint8Array(size));
    const native = NativeAesCfb.create(key, KCP_IV);
    assert.ok(native, "libcrypto did not load (tests run with -A)");
    const ref = new AesCfb(key, KCP_IV);
    for (const len of [1, 15, 16, 17, 100, 1349, 1500]) {
      const plain = crypto.getRandomValues(new Uint8Array(len + 3));
      // An odd offset into a larger buffer, as datagrams sit in shared blocks.
      const a = plain.slice(), b = plain.slice();
      native.encrypt(a.subarray(3)), ref.encrypt(b.subarray(3));
      assert.deepEqual(a, b, `encrypt ${size * 8}-bit, ${len} bytes`);
      assert.deepEqual(a.subarray(0, 3), plain.subarray(0, 3));
      native.decrypt(a.subarray(3));
      assert.deepEqual(a, plain, `decrypt ${size * 8}-bit, ${len} bytes`);
    }
  }
});

Deno.test("kcp native aes: every packet starts from the IV (no state carried between calls)", () => {
  const native = NativeAesCfb.create(new Uint8Array(32).fill(7), KCP_IV)!;
  const p = new Uint8Array(40).fill(1);
  const first = p.slice(), second = p.slice();
  native.encrypt(first);
  native.encrypt(new Uint8Array(33)); // a packet in between, of another length
  native.encrypt(second);
  assert.deepEqual(first, second);
  native.decrypt(new Uint8Array(17));
  native.decrypt(second);
  assert.deepEqual(second, p);
});
