/**
 * kcp-go's AES-CFB on `node:crypto`, for where libcrypto cannot be loaded (native_aes.ts serves
 * everywhere else). crypt.ts imports this module only then: `node:crypto` is the first `node:`
 * module such a process loads, which costs it ~5 MB of resident memory.
 * @module
 */
import { type Cipheriv, createCipheriv } from "node:crypto";

/** `dst[at + i] ^= src[i]` for `i < len`, a word at a time when both sides are aligned. */
function xorInto(dst: Uint8Array, at: number, src: Uint8Array, len: number): void {
  let i = 0;
  const d = dst.byteOffset + at;
  if ((d & 3) === 0 && (src.byteOffset & 3) === 0 && len >= 16) {
    const words = len >>> 2;
    const dw = new Int32Array(dst.buffer, d, words);
    const sw = new Int32Array(src.buffer, src.byteOffset, words);
    for (let j = 0; j < words; j++) dw[j] ^= sw[j];
    i = words << 2;
  }
  for (; i < len; i++) dst[at + i] ^= src[i];
}

/** Creates a `node:crypto` AES cipher without padding, or null when Deno does not offer the mode. */
function nativeAes(bits: number, mode: "ecb" | "cbc", key: Uint8Array): Cipheriv | null {
  const make = () => {
    const c = createCipheriv(`aes-${bits}-${mode}`, key, mode === "ecb" ? null : new Uint8Array(16));
    c.setAutoPadding(false);
    return c;
  };
  let c: Cipheriv;
  try {
    c = make();
  } catch {
    return null; // Deno 2.9 has no aes-192-cbc
  }
  skipBlockCache(c, make);
  return c;
}

/**
 * Deno's `update()` for ECB/CBC first appends the input to a block cache (a new array and a copy
 * per call) before its native op; every input here is whole blocks, so that cache only costs
 * allocations — about a fifth of a datagram's AES time. Where Deno keeps the switch as an
 * instance property, turn it off — only after a spare cipher without the cache produced the same
 * bytes as one with it, so a Deno that changes its internals just loses the shortcut.
 */
function skipBlockCache(c: Cipheriv, make: () => Cipheriv): void {
  type Internal = { _needsBlockCache?: boolean };
  if ((c as unknown as Internal)._needsBlockCache !== true) return;
  const probe = new Uint8Array(48).map((_, i) => i * 7);
  const withCache = make(), without = make();
  (without as unknown as Internal)._needsBlockCache = false;
  for (const input of [probe, probe.subarray(16), probe]) {
    const want: Uint8Array = withCache.update(input), got: Uint8Array = without.update(input);
    if (got.length !== want.length || !got.every((v, i) => v === want[i])) return;
  }
  (c as unknown as Internal)._needsBlockCache = false;
}

/**
 * AES in kcp-go's CFB-128 mode with the fixed IV, in place, with one native `node:crypto` call
 * per datagram (`crypt_bench.ts` measures it against the T-table AES below: the native call
 * wins both ways, by about 3x when decrypting).
 *
 * CFB's keystream is `K_0 = E(IV)`, `K_i = E(C_{i-1})`, and `C_i = P_i ^ K_i`:
 * - decryption knows every `C_{i-1}` up front, so one ECB pass over the ciphertext (shifted by a
 *   block) yields `K_1..K_{n-1}`;
 * - encryption is serial, but a CBC pass is exactly that chain: CBC computes
 *   `O_i = E(X_i ^ O_{i-1})`, so feeding it the plaintext `P_{i-1}` with the chaining value
 *   `K_{i-1}` yields `E(P_{i-1} ^ K_{i-1}) = E(C_{i-1}) = K_i`. The CBC cipher is created once and
 *   keeps chaining across calls; the first block fed is adjusted by the chaining value the
 *   previous call left (its last output), which stands in for a fresh IV at no cost.
 * `K_0` is the same for every packet and is computed once. Neither pass copies the datagram.
 * Where Deno lacks the CBC mode (AES-192), encryption runs the T-table AES in TypeScript.
 */
export class AesCfb {
  readonly #ecb: Cipheriv;
  readonly #cbc: Cipheriv | null;
  /** `E(IV)`: the first keystream block of every packet. */
  readonly #k0: Uint8Array;
  /** The CBC cipher's chaining value: the last block it returned. */
  readonly #chain = new Uint8Array(16);
  /** Round keys for the T-table fallback. */
  readonly #w: Int32Array | null;
  /** The IV as four big-endian words, for the T-table fallback. */
  readonly #ivWords: Int32Array;

  /** AES with a 16-, 24- or 32-byte `key`, `iv` (16 bytes) starting every packet. */
  constructor(key: Uint8Array, iv: Uint8Array) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
      throw new Error(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
    }
    const bits = key.length * 8;
    const ecb = nativeAes(bits, "ecb", key);
    if (!ecb) throw new Error(`node:crypto has no aes-${bits}-ecb`);
    this.#ecb = ecb;
    this.#cbc = nativeAes(bits, "cbc", key);
    this.#w = this.#cbc ? null : expandKey(key);
    this.#k0 = new Uint8Array(ecb.update(iv));
    this.#ivWords = new Int32Array(4).map((_, i) =>
      (iv[4 * i] << 24) | (iv[4 * i + 1] << 16) | (iv[4 * i + 2] << 8) | iv[4 * i + 3]
    );
  }

  encrypt(b: Uint8Array): void {
    const len = b.length;
    if (len === 0) return;
    const k0 = this.#k0, chain = this.#chain;
    if (len <= 16) return xorInto(b, 0, k0, len);
    if (!this.#cbc) return tableCfbEncrypt(this.#w!, this.#ivWords, b);
    // b[0..16) becomes P_0 ^ K_0 ^ chain: what the CBC pass must see to start from K_0.
    for (let i = 0; i < 16; i++) b[i] ^= k0[i] ^ chain[i];
    const ks: Uint8Array = this.#cbc.update(b.subarray(0, (len - 1) & ~15));
    for (let i = 0; i < 16; i++) b[i] ^= chain[i]; // now C_0 = P_0 ^ K_0
    chain.set(ks.subarray(ks.length - 16));
    xorInto(b, 16, ks, len - 16);
  }

  decrypt(b: Uint8Array): void {
    const len = b.length;
    if (len > 16) {
      const ks: Uint8Array = this.#ecb.update(b.subarray(0, (len - 1) & ~15));
      xorInto(b, 16, ks, len - 16);
    }
    xorInto(b, 0, this.#k0, Math.min(16, len));
  }
}

// AES with T-tables, the encryption direction only (the CFB fallback for AES-192).

const SBOX = new Uint8Array(256);
// Int32 tables: V8 keeps their elements as small integers (Uint32 values above 2^31 are boxed).
const T0 = new Int32Array(256);
const T1 = new Int32Array(256);
const T2 = new Int32Array(256);
const T3 = new Int32Array(256);
{
  // GF(2^8) exp/log with generator 3, then S(x) = affine(x^-1).
  const exp = new Uint8Array(256);
  const log = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    exp[i] = x;
    log[x] = i;
    x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0);
  }
  for (let x = 0; x < 256; x++) {
    const inv = x === 0 ? 0 : exp[(255 - log[x]) % 255];
    let s = inv;
    for (let r = 1; r < 5; r++) s ^= ((inv << r) | (inv >>> (8 - r))) & 0xff;
    SBOX[x] = s ^ 0x63;
  }
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x];
    const s2 = ((s << 1) ^ (s & 0x80 ? 0x11b : 0)) & 0xff;
    const s3 = s2 ^ s;
    const t = (s2 << 24) | (s << 16) | (s << 8) | s3;
    T0[x] = t;
    T1[x] = (t >>> 8) | (t << 24);
    T2[x] = (t >>> 16) | (t << 16);
    T3[x] = (t >>> 24) | (t << 8);
  }
}

function expandKey(key: Uint8Array): Int32Array {
  const nk = key.length / 4;
  if (![4, 6, 8].includes(nk)) throw new Error(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  const rounds = nk + 6;
  const w = new Int32Array(4 * (rounds + 1));
  for (let i = 0; i < nk; i++) {
    w[i] = ((key[4 * i] << 24) | (key[4 * i + 1] << 16) | (key[4 * i + 2] << 8) | key[4 * i + 3]) >>> 0;
  }
  let rcon = 1;
  for (let i = nk; i < w.length; i++) {
    let t = w[i - 1];
    if (i % nk === 0) {
      t = ((t << 8) | (t >>> 24)) >>> 0;
      t = ((SBOX[t >>> 24] << 24) | (SBOX[(t >>> 16) & 255] << 16) | (SBOX[(t >>> 8) & 255] << 8) |
        SBOX[t & 255]) ^ (rcon << 24);
      rcon = ((rcon << 1) ^ (rcon & 0x80 ? 0x11b : 0)) & 0xff;
    } else if (nk > 6 && i % nk === 4) {
      t = (SBOX[t >>> 24] << 24) | (SBOX[(t >>> 16) & 255] << 16) | (SBOX[(t >>> 8) & 255] << 8) |
        SBOX[t & 255];
    }
    w[i] = (w[i - nk] ^ t) >>> 0;
  }
  return w;
}

/** CFB-128 encryption in place with round keys `w` (10, 12 or 14 rounds) and the IV's words. */
function tableCfbEncrypt(w: Int32Array, iv: Int32Array, b: Uint8Array): void {
  const last = w.length - 4;
  const len = b.length;
  let r0 = iv[0], r1 = iv[1], r2 = iv[2], r3 = iv[3];
  for (let o = 0; o < len; o += 16) {
    let s0 = r0 ^ w[0], s1 = r1 ^ w[1], s2 = r2 ^ w[2], s3 = r3 ^ w[3];
    for (let k = 4; k < last; k += 4) {
      const t0 = T0[s0 >>> 24] ^ T1[(s1 >>> 16) & 255] ^ T2[(s2 >>> 8) & 255] ^ T3[s3 & 255] ^ w[k];
      const t1 = T0[s1 >>> 24] ^ T1[(s2 >>> 16) & 255] ^ T2[(s3 >>> 8) & 255] ^ T3[s0 & 255] ^ w[k + 1];
      const t2 = T0[s2 >>> 24] ^ T1[(s3 >>> 16) & 255] ^ T2[(s0 >>> 8) & 255] ^ T3[s1 & 255] ^ w[k + 2];
      const t3 = T0[s3 >>> 24] ^ T1[(s0 >>> 16) & 255] ^ T2[(s1 >>> 8) & 255] ^ T3[s2 & 255] ^ w[k + 3];
      s0 = t0, s1 = t1, s2 = t2, s3 = t3;
    }
    const k0 = ((SBOX[s0 >>> 24] << 24) | (SBOX[(s1 >>> 16) & 255] << 16) | (SBOX[(s2 >>> 8) & 255] << 8) |
      SBOX[s3 & 255]) ^ w[last];
    const k1 = ((SBOX[s1 >>> 24] << 24) | (SBOX[(s2 >>> 16) & 255] << 16) | (SBOX[(s3 >>> 8) & 255] << 8) |
      SBOX[s0 & 255]) ^ w[last + 1];
    const k2 = ((SBOX[s2 >>> 24] << 24) | (SBOX[(s3 >>> 16) & 255] << 16) | (SBOX[(s0 >>> 8) & 255] << 8) |
      SBOX[s1 & 255]) ^ w[last + 2];
    const k3 = ((SBOX[s3 >>> 24] << 24) | (SBOX[(s0 >>> 16) & 255] << 16) | (SBOX[(s1 >>> 8) & 255] << 8) |
      SBOX[s2 & 255]) ^ w[last + 3];
    if (o + 16 > len) {
      const ks = [k0, k1, k2, k3];
      for (let i = 0; o + i < len; i++) b[o + i] ^= ks[i >> 2] >>> (24 - 8 * (i & 3));
      return;
    }
    // The next block's input is this block's ciphertext.
    r0 = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) ^ k0;
    r1 = ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) ^ k1;
    r2 = ((b[o + 8] << 24) | (b[o + 9] << 16) | (b[o + 10] << 8) | b[o + 11]) ^ k2;
    r3 = ((b[o + 12] << 24) | (b[o + 13] << 16) | (b[o + 14] << 8) | b[o + 15]) ^ k3;
    b[o] = r0 >>> 24, b[o + 1] = r0 >>> 16, b[o + 2] = r0 >>> 8, b[o + 3] = r0;
    b[o + 4] = r1 >>> 24, b[o + 5] = r1 >>> 16, b[o + 6] = r1 >>> 8, b[o + 7] = r1;
    b[o + 8] = r2 >>> 24, b[o + 9] = r2 >>> 16, b[o + 10] = r2 >>> 8, b[o + 11] = r2;
    b[o + 12] = r3 >>> 24, b[o + 13] = r3 >>> 16, b[o + 14] = r3 >>> 8, b[o + 15] = r3;
  }
}
