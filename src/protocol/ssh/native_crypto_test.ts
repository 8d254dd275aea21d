import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { NATIVE_CIPHERS } from "./ssh2.ts";
// ssh2's own cipher code: what ours is checked against (its `forceNative` path is node:crypto
// and its WebAssembly Poly1305, written independently of ours).
// @ts-ignore: ssh2 ships no types for its internals
import ssh2crypto from "ssh2/lib/protocol/crypto.js";

// deno-lint-ignore no-explicit-any
const c = ssh2crypto as any;
await c.init;

/** The ciphers we expect on libcrypto when this process may load it (the tests run with -A). */
const NAMES = ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"];

function keysFor(name: string) {
  const info = c.CIPHER_INFO[name];
  return { info, key: randomBytes(info.keyLen), iv: info.ivLen ? randomBytes(info.ivLen) : undefined };
}

/** Seals `payloads` as consecutive packets; `native` false forces ssh2's JavaScript path. */
function seal(name: string, k: ReturnType<typeof keysFor>, payloads: Uint8Array[], native: boolean) {
  const out: Uint8Array[] = [];
  const cipher = c.createCipher({
    outbound: {
      onWrite: (b: Uint8Array) => out.push(Uint8Array.from(b)),
      cipherInfo: k.info,
      cipherKey: Buffer.from(k.key),
      cipherIV: k.iv && Buffer.from(k.iv),
      seqno: 7,
      forceNative: !native,
    },
  });
  assert.equal(cipher.constructor.name.endsWith("Binding"), native, `${name}: path taken`);
  for (const p of payloads) {
    const pkt = cipher.allocPacket(p.length);
    pkt.set(p, 5);
    cipher.encrypt(pkt);
  }
  const wire = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
  out.reduce((at, b) => (wire.set(b, at), at + b.length), 0);
  return wire;
}

/** Opens `wire`, fed in pieces of `step` bytes; returns the payloads. */
function open(k: ReturnType<typeof keysFor>, wire: Uint8Array, native: boolean, step = wire.length) {
  const got: Uint8Array[] = [];
  const decipher = c.createDecipher({
    inbound: {
      onPayload: (p: Uint8Array) => void got.push(Uint8Array.from(p)),
      decipherInfo: k.info,
      decipherKey: Buffer.from(k.key),
      decipherIV: k.iv && Buffer.from(k.iv),
      seqno: 7,
      forceNative: !native,
    },
  });
  for (let at = 0; at < wire.length; at += step) {
    const piece = Buffer.from(wire.subarray(at, Math.min(at + step, wire.length)));
    decipher.decrypt(piece, 0, piece.length);
  }
  return got;
}

const payloads = [0, 1, 15, 16, 17, 1000, 32768].map((n) => new Uint8Array(randomBytes(n)));

Deno.test("ssh ciphers: libcrypto is in use where the process may load it", () => {
  assert.equal(NATIVE_CIPHERS.native, true);
  assert.equal(NATIVE_CIPHERS.chacha20, true);
});

for (const name of NAMES) {
  Deno.test(`ssh ${name}: libcrypto's packets open with ssh2's own code, and the reverse`, () => {
    const k = keysFor(name);
    assert.deepEqual(open(k, seal(name, k, payloads, true), false), payloads);
    assert.deepEqual(open(k, seal(name, k, payloads, false), true), payloads);
    // The same keys and sequence numbers give the same bytes on both paths (AEADs are
    // deterministic; only the random padding differs, so compare what each path opens).
    assert.deepEqual(open(k, seal(name, k, payloads, true), true, 7), payloads);
  });

  Deno.test(`ssh ${name}: a flipped bit anywhere in a packet is refused`, () => {
    const k = keysFor(name);
    const wire = seal(name, k, [new Uint8Array(100)], true);
    // The length (AAD of AES-GCM, encrypted by chacha20-poly1305), the body, the tag. A longer
    // length waits for more bytes: the zeros after it make up the rest of the claimed packet.
    for (const at of [2, 40, wire.length - 1]) {
      const bad = new Uint8Array(wire.length + 512);
      bad.set(wire);
      bad[at] ^= 1;
      assert.throws(() => open(k, bad, true), /MAC|length/, `byte ${at}`);
    }
  });

  Deno.test(`ssh ${name}: the wrong key or sequence number is refused`, () => {
    const k = keysFor(name);
    const wire = seal(name, k, [new Uint8Array(64)], true);
    assert.throws(() => open({ ...k, key: randomBytes(k.key.length) }, wire, true), /MAC|length/);
    const two = seal(name, k, [new Uint8Array(64), new Uint8Array(64)], true);
    const second = two.subarray(wire.length);
    assert.throws(() => open(k, second, true), /MAC|length/, "second packet opened as the first");
  });
}
