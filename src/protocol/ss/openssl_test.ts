import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { NativeAead, type NativeAlg, nativeCryptoActive, setNativeCrypto } from "./openssl.ts";
import { Aead } from "./cipher.ts";
import { GOST_PERMISSIONS, NO_FFI_FLAGS } from "../../../scripts/permissions.ts";

// The suite runs with -A, so libcrypto must load here (Debian: libssl3).
const ALGS: [NativeAlg, number][] = [["aes-128-gcm", 16], ["aes-256-gcm", 32], ["chacha20-poly1305", 32]];
const SIZES = [0, 1, 2, 100, 0x3fff, 0xffff + 7];

function nodeSeal(alg: NativeAlg, key: Uint8Array, nonce: Uint8Array, plain: Uint8Array): Uint8Array {
  const c = createCipheriv(alg as "chacha20-poly1305", key, nonce, { authTagLength: 16 });
  const body = c.update(plain);
  c.final();
  return new Uint8Array([...body, ...c.getAuthTag()]);
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

for (const [alg, keySize] of ALGS) {
  Deno.test(`libcrypto ${alg}: seals exactly as node:crypto does, and opens what it sealed`, () => {
    assert.ok(nativeCryptoActive(), "libcrypto loads under --allow-ffi");
    const key = bytes(keySize, 1), nonce = bytes(12, 2);
    const aead = NativeAead.create(alg, key)!;
    for (const n of SIZES) {
      const plain = bytes(n, n);
      const out = new Uint8Array(n + 16 + 5);
      aead.seal(nonce, plain, out, 5);
      const sealed = out.subarray(5);
      assert.deepEqual(sealed, nodeSeal(alg, key, nonce, plain), `${n} bytes`);
      assert.deepEqual(aead.open(nonce, sealed), plain);
    }
  });

  Deno.test(`libcrypto ${alg}: a flipped bit, a wrong nonce or a short message do not open`, () => {
    const key = bytes(keySize, 3), nonce = bytes(12, 4);
    const aead = NativeAead.create(alg, key)!;
    const sealed = nodeSeal(alg, key, nonce, bytes(64, 5));
    for (const i of [0, 63, 64, 79]) {
      const forged = sealed.slice();
      forged[i] ^= 1;
      assert.equal(aead.open(nonce, forged), null, `bit flipped at ${i}`);
    }
    assert.equal(aead.open(bytes(12, 9), sealed), null);
    assert.equal(aead.open(nonce, sealed.subarray(0, 15)), null);
    assert.equal(NativeAead.create(alg, bytes(keySize, 8))!.open(nonce, sealed), null, "other key");
    // and the context is still good afterwards
    assert.deepEqual(aead.open(nonce, sealed), bytes(64, 5));
  });
}

Deno.test("libcrypto: keys, methods and directions taking turns on the shared contexts stay exact", () => {
  // Each context keeps the key it last had and sets only the nonce for the same key again: every
  // mix of keys, methods and sealing/opening must still give exactly node:crypto's bytes.
  const aeads = ALGS.flatMap(([alg, keySize]) =>
    [1, 2].map((seed) => ({
      alg,
      key: bytes(keySize, seed),
      aead: NativeAead.create(alg, bytes(keySize, seed))!,
    }))
  );
  const order = [0, 0, 1, 0, 2, 3, 2, 2, 4, 5, 4, 1, 1, 5, 0, 3];
  order.forEach((i, step) => {
    const { alg, key, aead } = aeads[i];
    const nonce = bytes(12, step), plain = bytes(step * 37, step);
    const expected = nodeSeal(alg, key, nonce, plain);
    const out = new Uint8Array(expected.length);
    aead.seal(nonce, plain, out, 0);
    assert.deepEqual(out, expected, `step ${step}: seal ${alg} key ${i}`);
    const other = aeads[order[(step + 1) % order.length]];
    if (other.aead !== aead) assert.equal(other.aead.open(nonce, expected), null, `step ${step}: other key`);
    assert.deepEqual(aead.open(nonce, expected), plain, `step ${step}: open ${alg} key ${i}`);
    const forged = expected.slice();
    forged[forged.length - 1] ^= 1;
    assert.equal(aead.open(nonce, forged), null, `step ${step}: forged`);
  });
});

Deno.test("libcrypto: sealing in place works, a shifted overlap and a short output are refused", () => {
  const key = bytes(32, 1), nonce = bytes(12, 2);
  const aead = NativeAead.create("aes-256-gcm", key)!;
  const buf = new Uint8Array(100 + 16);
  buf.set(bytes(100, 7));
  aead.seal(nonce, buf.subarray(0, 100), buf, 0);
  assert.deepEqual(buf, nodeSeal("aes-256-gcm", key, nonce, bytes(100, 7)));
  assert.throws(() => aead.seal(nonce, buf.subarray(0, 100), buf, 1), RangeError);
  assert.throws(() => aead.seal(nonce, bytes(100, 1), new Uint8Array(115), 0), RangeError);
  assert.throws(() => aead.seal(bytes(8, 1), bytes(10, 1), new Uint8Array(26), 0), /nonce/);
});

Deno.test("libcrypto: opening in place and into another buffer; a shifted overlap is refused", () => {
  const key = bytes(16, 1), nonce = bytes(12, 2), plain = bytes(300, 5);
  const aead = NativeAead.create("aes-128-gcm", key)!;
  const sealed = nodeSeal("aes-128-gcm", key, nonce, plain);
  const out = new Uint8Array(310);
  assert.ok(aead.openTo(nonce, sealed, out, 10));
  assert.deepEqual(out.subarray(10), plain);
  const buf = sealed.slice();
  assert.ok(aead.openTo(nonce, buf, buf, 0));
  assert.deepEqual(buf.subarray(0, 300), plain);
  assert.throws(() => aead.openTo(nonce, sealed.slice(), new Uint8Array(299), 0), RangeError);
  const shifted = new Uint8Array(400);
  shifted.set(sealed, 50);
  assert.throws(() => aead.openTo(nonce, shifted.subarray(50, 366), shifted, 40), RangeError);
  const forged = sealed.slice();
  forged[3] ^= 1;
  assert.equal(aead.openTo(nonce, forged, new Uint8Array(300), 0), false);
});

Deno.test("Aead runs on libcrypto where it loads, and on Deno's crypto when that is turned off", async () => {
  const key = bytes(32, 1), nonce = bytes(12, 2), plain = bytes(20_000, 3);
  const expected = nodeSeal("aes-256-gcm", key, nonce, plain);
  try {
    for (const on of [true, false]) {
      setNativeCrypto(on);
      const aead = Aead.create("aes-gcm", key);
      assert.equal(aead.native, on);
      const out = new Uint8Array(plain.length + 16);
      await aead.seal(nonce, plain, out, 0); // large: Web Crypto when not native
      assert.deepEqual(out, expected);
      assert.deepEqual(await aead.open(nonce, out), plain);
    }
  } finally {
    setNativeCrypto(true);
  }
});

Deno.test("without the ffi grant every AEAD stays on Deno's crypto", async () => {
  // A process of its own: the grant is looked at once, when libcrypto first loads, and this one
  // has loaded it already.
  const code = `
    import { NativeAead, nativeCryptoActive } from "${new URL("./openssl.ts", import.meta.url)}";
    import { Aead } from "${new URL("./cipher.ts", import.meta.url)}";
    const key = new Uint8Array(32);
    console.log(JSON.stringify([
      nativeCryptoActive(), NativeAead.create("aes-256-gcm", key), Aead.create("aes-gcm", key).native,
    ]));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...GOST_PERMISSIONS, ...NO_FFI_FLAGS, "-"],
    cwd: new URL("../../..", import.meta.url),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(code));
  await w.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [false, null, false]);
});
