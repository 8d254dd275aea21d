/**
 * kcp-go's packet crypt layer: every UDP datagram is `nonce(16) | crc32(4) | body`, with
 * the CRC-32 (IEEE, little-endian) over the body and the whole datagram then encrypted.
 *
 * The block ciphers run in CFB-128 mode with kcp-go's fixed IV (the random nonce at the
 * front makes every packet's keystream different); salsa20 keys its stream with the first
 * 8 bytes; `xor` XORs a PBKDF2-expanded table; `none` leaves the bytes as they are but keeps
 * the header. Web Crypto has no CFB and Deno's `node:crypto` has no `aes-*-cfb`, so CFB is
 * built from its ECB and CBC modes (see {@link AesCfb}): one synchronous native call per
 * datagram, no promise, no copy of the datagram.
 * @module
 */
import { type Cipheriv, createCipheriv, pbkdf2Sync } from "node:crypto";
import * as zlib from "node:zlib";
import { crc32 as tableCrc32 } from "../../core/crc32.ts";
import { NativeAesCfb } from "./native_aes.ts";

/**
 * CRC-32 IEEE of every datagram: zlib's native one where the runtime has it (0.1 µs against
 * 1 µs in TypeScript for 1350 bytes). Only KCP loads it: node:zlib costs ~20 ms of start-up in a
 * process that has not loaded node:crypto yet, which the core module must not impose.
 */
const crc32: (data: Uint8Array) => number = (zlib as { crc32?: (data: Uint8Array) => number }).crc32 ??
  tableCrc32;

/** Bytes of random nonce in front of every packet. */
export const NONCE_SIZE = 16;
/** Nonce plus CRC-32: the header a packet carries whenever a crypt is configured. */
export const CRYPT_HEADER_SIZE = 20;

/** The `kcp.crypt` names understood. */
export const CRYPT_NAMES = ["aes", "aes-128", "aes-192", "salsa20", "xor", "none"] as const;
export type CryptName = typeof CRYPT_NAMES[number];

/** A cipher applied in place to a whole datagram. */
export interface BlockCrypt {
  encrypt(buf: Uint8Array): void;
  decrypt(buf: Uint8Array): void;
}

/** kcp-go's fixed CFB initial vector. */
export const KCP_IV = new Uint8Array([
  167,
  115,
  79,
  156,
  18,
  172,
  27,
  1,
  164,
  21,
  242,
  193,
  252,
  120,
  230,
  107,
]);

const KDF_SALT = "kcp-go";
const XOR_SALT = "sH3CIVoF#rWLtJo6";
/** kcp-go's largest datagram; the xor table is this long. */
const MTU_LIMIT = 1500;

/** PBKDF2-HMAC-SHA1(key, "kcp-go", 4096, 32): the pass every cipher is keyed from. */
export function deriveKey(key: string): Uint8Array {
  return new Uint8Array(pbkdf2Sync(key, KDF_SALT, 4096, 32, "sha1"));
}

/** AES-CFB through libcrypto where it may be loaded (no allocation per packet), else `node:crypto`. */
function aesCfb(key: Uint8Array): BlockCrypt {
  return NativeAesCfb.create(key, KCP_IV) ?? new AesCfb(key);
}

/** Builds the cipher `name` from the derived 32-byte pass, exactly as kcp-go/kcptun/gost pick key bytes. */
export function createBlockCrypt(name: CryptName, pass: Uint8Array): BlockCrypt {
  switch (name) {
    case "aes":
      return aesCfb(pass.subarray(0, 32));
    case "aes-128":
      return aesCfb(pass.subarray(0, 16));
    case "aes-192":
      return aesCfb(pass.subarray(0, 24));
    case "salsa20":
      return new Salsa20Crypt(pass);
    case "xor":
      return new XorCrypt(new Uint8Array(pbkdf2Sync(pass, XOR_SALT, 32, MTU_LIMIT, "sha1")));
    case "none":
      return { encrypt() {}, decrypt() {} };
  }
}

// ---------------------------------------------------------------- AES-CFB

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
export class AesCfb implements BlockCrypt {
  readonly #ecb: Cipheriv;
  readonly #cbc: Cipheriv | null;
  /** `E(IV)`: the first keystream block of every packet. */
  readonly #k0: Uint8Array;
  /** The CBC cipher's chaining value: the last block it returned. */
  readonly #chain = new Uint8Array(16);
  /** Round keys for the T-table fallback. */
  readonly #w: Int32Array | null;

  constructor(key: Uint8Array) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
      throw new Error(`AES key must be 16, 24 or 32 bytes, got ${key.length}`);
    }
    const bits = key.length * 8;
    const ecb = nativeAes(bits, "ecb", key);
    if (!ecb) throw new Error(`node:crypto has no aes-${bits}-ecb`);
    this.#ecb = ecb;
    this.#cbc = nativeAes(bits, "cbc", key);
    this.#w = this.#cbc ? null : expandKey(key);
    this.#k0 = new Uint8Array(ecb.update(KCP_IV));
  }

  encrypt(b: Uint8Array): void {
    const len = b.length;
    if (len === 0) return;
    const k0 = this.#k0, chain = this.#chain;
    if (len <= 16) return xorInto(b, 0, k0, len);
    if (!this.#cbc) return tableCfbEncrypt(this.#w!, b);
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

const IV_WORDS = new Int32Array(4).map((_, i) =>
  (KCP_IV[4 * i] << 24) | (KCP_IV[4 * i + 1] << 16) | (KCP_IV[4 * i + 2] << 8) | KCP_IV[4 * i + 3]
);

/** CFB-128 encryption in place with round keys `w` (10, 12 or 14 rounds). */
function tableCfbEncrypt(w: Int32Array, b: Uint8Array): void {
  const last = w.length - 4;
  const len = b.length;
  let r0 = IV_WORDS[0], r1 = IV_WORDS[1], r2 = IV_WORDS[2], r3 = IV_WORDS[3];
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

// ---------------------------------------------------------------- Salsa20/20

/** Salsa20 keyed with the 32-byte pass; the packet's first 8 bytes are the nonce (left as is). */
export class Salsa20Crypt implements BlockCrypt {
  readonly #input = new Uint32Array(16);
  readonly #x = new Uint32Array(16);
  readonly #block = new Uint8Array(64);
  readonly #blockWords = new Uint32Array(this.#block.buffer);

  constructor(key: Uint8Array) {
    const k = new DataView(key.buffer, key.byteOffset, 32);
    const s = this.#input;
    s[0] = 0x61707865, s[5] = 0x3320646e, s[10] = 0x79622d32, s[15] = 0x6b206574;
    for (let i = 0; i < 4; i++) {
      s[1 + i] = k.getUint32(4 * i, true);
      s[11 + i] = k.getUint32(16 + 4 * i, true);
    }
  }

  encrypt(buf: Uint8Array): void {
    this.#xor(buf);
  }
  decrypt(buf: Uint8Array): void {
    this.#xor(buf);
  }

  #xor(b: Uint8Array): void {
    if (b.length <= 8) return;
    const s = this.#input;
    s[6] = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
    s[7] = b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24);
    s[8] = 0, s[9] = 0;
    for (let o = 8; o < b.length; o += 64) {
      this.#core();
      const n = Math.min(64, b.length - o);
      const ks = this.#block;
      for (let i = 0; i < n; i++) b[o + i] ^= ks[i];
      if (++s[8] === 0) s[9]++;
    }
  }

  #core(): void {
    const x = this.#x;
    x.set(this.#input);
    for (let i = 0; i < 10; i++) {
      x[4] ^= rotl(x[0] + x[12], 7), x[8] ^= rotl(x[4] + x[0], 9);
      x[12] ^= rotl(x[8] + x[4], 13), x[0] ^= rotl(x[12] + x[8], 18);
      x[9] ^= rotl(x[5] + x[1], 7), x[13] ^= rotl(x[9] + x[5], 9);
      x[1] ^= rotl(x[13] + x[9], 13), x[5] ^= rotl(x[1] + x[13], 18);
      x[14] ^= rotl(x[10] + x[6], 7), x[2] ^= rotl(x[14] + x[10], 9);
      x[6] ^= rotl(x[2] + x[14], 13), x[10] ^= rotl(x[6] + x[2], 18);
      x[3] ^= rotl(x[15] + x[11], 7), x[7] ^= rotl(x[3] + x[15], 9);
      x[11] ^= rotl(x[7] + x[3], 13), x[15] ^= rotl(x[11] + x[7], 18);
      x[1] ^= rotl(x[0] + x[3], 7), x[2] ^= rotl(x[1] + x[0], 9);
      x[3] ^= rotl(x[2] + x[1], 13), x[0] ^= rotl(x[3] + x[2], 18);
      x[6] ^= rotl(x[5] + x[4], 7), x[7] ^= rotl(x[6] + x[5], 9);
      x[4] ^= rotl(x[7] + x[6], 13), x[5] ^= rotl(x[4] + x[7], 18);
      x[11] ^= rotl(x[10] + x[9], 7), x[8] ^= rotl(x[11] + x[10], 9);
      x[9] ^= rotl(x[8] + x[11], 13), x[10] ^= rotl(x[9] + x[8], 18);
      x[12] ^= rotl(x[15] + x[14], 7), x[13] ^= rotl(x[12] + x[15], 9);
      x[14] ^= rotl(x[13] + x[12], 13), x[15] ^= rotl(x[14] + x[13], 18);
    }
    const out = this.#blockWords;
    // Little-endian words (every platform Deno runs on is little-endian).
    for (let i = 0; i < 16; i++) out[i] = x[i] + this.#input[i];
  }
}

function rotl(v: number, c: number): number {
  return (v << c) | (v >>> (32 - c));
}

// ---------------------------------------------------------------- xor

/** kcp-go's "simple xor": XOR with a fixed 1500-byte table. */
class XorCrypt implements BlockCrypt {
  constructor(readonly table: Uint8Array) {}
  encrypt(b: Uint8Array): void {
    const t = this.table, n = Math.min(b.length, t.length);
    for (let i = 0; i < n; i++) b[i] ^= t[i];
  }
  decrypt(b: Uint8Array): void {
    this.encrypt(b);
  }
}

// ---------------------------------------------------------------- packet seal / open

const noncePool = new Uint8Array(65536);
let noncePos = noncePool.length;

/** Writes a fresh random nonce at `buf[0..16)` (drawn from a pool refilled 64 KiB at a time). */
function fillNonce(buf: Uint8Array): void {
  if (noncePos + NONCE_SIZE > noncePool.length) {
    crypto.getRandomValues(noncePool);
    noncePos = 0;
  }
  buf.set(noncePool.subarray(noncePos, noncePos + NONCE_SIZE));
  noncePos += NONCE_SIZE;
}

/**
 * Seals a packet in place: `buf[0..20)` is reserved for the header, the body follows.
 * Writes nonce and CRC-32, then encrypts the whole buffer.
 */
export function sealPacket(crypt: BlockCrypt, buf: Uint8Array): void {
  fillNonce(buf);
  const crc = crc32(buf.subarray(CRYPT_HEADER_SIZE)) >>> 0;
  buf[16] = crc, buf[17] = crc >>> 8, buf[18] = crc >>> 16, buf[19] = crc >>> 24;
  crypt.encrypt(buf);
}

/**
 * Opens a packet in place: decrypts and checks the CRC. Returns the body, or null when the
 * packet is too short or fails the check (wrong key, garbage, corruption).
 */
export function openPacket(crypt: BlockCrypt, buf: Uint8Array): Uint8Array | null {
  if (buf.length < CRYPT_HEADER_SIZE) return null;
  crypt.decrypt(buf);
  const want = (buf[16] | (buf[17] << 8) | (buf[18] << 16) | (buf[19] << 24)) >>> 0;
  const body = buf.subarray(CRYPT_HEADER_SIZE);
  return crc32(body) >>> 0 === want ? body : null;
}
